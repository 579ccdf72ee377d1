"""Article and video metadata for the report, read from the project's sources.

Titles and contact topics come from `docs/**/*.md` front matter and `videos/*.yml` (safe_load
only). Publication dates are not front-matter keys, so for a real site the report takes the
first day an item was seen in the events as its publication; demo traffic records exact ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from kb_tools.project import Project


def _front_matter(text: str) -> dict[str, Any]:
    if not text.startswith("---"):
        return {}
    end = text.find("\n---", 3)
    if end < 0:
        return {}
    try:
        data = yaml.safe_load(text[3:end])
    except yaml.YAMLError:
        return {}  # `kb check` reports broken front matter; the report just skips the page
    return data if isinstance(data, dict) else {}


def page_url(rel: Path) -> str:
    """docs-relative `returns/policy.md` -> `/returns/policy/`; `x/index.md` -> `/x/`."""
    parts = list(rel.with_suffix("").parts)
    if parts and parts[-1] in ("index", "README"):
        parts = parts[:-1]
    return "/" + "".join(p + "/" for p in parts)


def read_content(project: Project) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    docs = project.docs_dir
    languages = project.languages[1:]
    if docs.is_dir():
        for path in sorted(docs.rglob("*.md")):
            rel = path.relative_to(docs)
            meta = _front_matter(path.read_text(encoding="utf-8", errors="replace"))
            lang = rel.parts[0] if len(rel.parts) > 1 and rel.parts[0] in languages else str(meta.get("lang") or "en")
            url = page_url(rel)
            items.append({"kind": "article", "key": url, "url": url, "lang": lang,
                          "title": str(meta.get("title") or url), "contact_topic": str(meta.get("contact_topic") or ""),
                          "published": None})
    videos = project.videos_dir
    if videos.is_dir():
        for path in sorted(videos.glob("*.yml")):
            try:
                meta = yaml.safe_load(path.read_text(encoding="utf-8"))
            except yaml.YAMLError:
                continue
            if not isinstance(meta, dict):
                continue
            vid = str(meta.get("id") or path.stem)
            items.append({"kind": "video", "key": vid, "url": f"/videos/{vid}/", "lang": str(meta.get("lang") or "en"),
                          "title": str(meta.get("title") or vid), "contact_topic": str(meta.get("contact_topic") or ""),
                          "published": None})
    return items
