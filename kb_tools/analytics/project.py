"""Article and video metadata for the report, read from the project's sources.

Articles come from the project's docs folder through the one content loader (`kb check`'s),
so titles, languages and URLs are the site's own; an article whose front matter is broken is
left out (`kb check` says why) and the report shows its URL. Videos come from the sidecars in
the videos folder (safe_load only), kept even when their media is missing. Publication dates
are not front-matter keys, so for a real site the report takes the first day an item was seen
in the events as its publication; demo traffic records exact ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml

from kb_tools import safe_yaml
from kb_tools.content.urls import page_url

if TYPE_CHECKING:
    from kb_tools.project import Project


def read_content(project: Project) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    if project.docs_dir.is_dir():
        site = project.content_site()
        for article in site.articles.values():
            url = "/" + page_url(article.src_path, project.use_directory_urls)
            items.append({"kind": "article", "key": url, "url": url, "lang": article.lang,
                          "title": article.title or url, "contact_topic": article.contact_topic,
                          "published": None,
                          "review_by": article.review_by.isoformat() if article.review_by else None})  # fmt: skip
    if project.videos_dir.is_dir():
        for path in sorted(project.videos_dir.glob("*.yml")):
            try:
                meta = safe_yaml.load(path.read_text(encoding="utf-8"))
            except (yaml.YAMLError, UnicodeDecodeError):  # `kb check` says what is wrong with it
                continue
            if not isinstance(meta, dict):
                continue
            vid = str(meta.get("id") or path.stem)
            url = "/" + page_url(f"videos/{vid}.md", project.use_directory_urls)
            items.append({"kind": "video", "key": vid, "url": url, "lang": str(meta.get("lang") or "en"),
                          "title": str(meta.get("title") or vid), "contact_topic": str(meta.get("contact_topic") or ""),
                          "published": None})  # fmt: skip
    return items
