"""What an article's text asks the build to do, checked line by line: its placeholders (policy
facts and video embeds, well-formed or not), and its links, images and media (the file, and
the anchor after '#'). Code is never checked: it is shown as written.

Every problem names the line in the file, counted from its first line (front matter included),
so `kb check` and `mkdocs build` point at the same place.
"""

from __future__ import annotations

import difflib
import posixpath
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

from kb_tools.content.frontmatter import TEXT_KEYS, Article, did_you_mean
from kb_tools.content.markup import (
    Placeholder,
    anchors,
    corrected,
    is_local,
    placeholders,
    targets,
    visible_lines,
)
from kb_tools.problems import Problem, error, shown_path, warning

if TYPE_CHECKING:
    from kb_tools.content.site import ContentSite

FILLED_IN = 'kb fills in only {{ policy.<key> }} and {{ video("<id>") }} (show template code as `code`)'
TARGET_WORDS = {"image": "image", "video": "video", "audio": "audio", "media": "media file", "link": "link to"}


class BodyChecker:
    """Checks the articles of one site; knows the videos, the files in docs_dir and, lazily,
    each article's anchors."""

    def __init__(self, site: ContentSite, video_ids: set[str] | None, broken_videos: set[str]) -> None:
        self.site = site
        self.video_ids = video_ids or set()
        self.broken_videos = broken_videos
        self.docs_shown = shown_path(site.docs_dir, site.project_dir)
        self.videos_shown = site.settings.videos_dir.strip("/") or "videos"
        self._anchors: dict[str, list[str]] = {}

    def check(self, article: Article) -> list[Problem]:
        return [*self.front_matter(article), *self.front_matter_videos(article), *self.text(article)]

    # -- front matter --------------------------------------------------------------------------

    def front_matter(self, article: Article) -> list[Problem]:
        """Front matter is shown as written: a placeholder there would reach shoppers raw."""
        problems = []
        for key in TEXT_KEYS:
            value = getattr(article, key, "")
            found = placeholders(value) if isinstance(value, str) else []
            if found:
                problems.append(error(article.rel_path, article.key_lines.get(key, 1),
                                      f"placeholder '{found[0].text}' in '{key}' is not filled in: front matter "
                                      "is shown as written; write the value itself"))  # fmt: skip
        return problems

    def front_matter_videos(self, article: Article) -> list[Problem]:
        line = article.key_lines.get("videos", 1)
        return [error(article.rel_path, line, self.unknown_video(vid))
                for vid in article.videos if vid not in self.video_ids]  # fmt: skip

    # -- the text ------------------------------------------------------------------------------

    def text(self, article: Article) -> list[Problem]:
        problems: list[Problem] = []
        base = posixpath.dirname(article.src_path)
        for number, line in visible_lines(article.body, article.body_line):
            for found in placeholders(line):
                message = self.placeholder(found, line, article)
                if message:
                    problems.append(error(article.rel_path, number, message))
            for target in targets(line):
                problem = self.checked_target(target.kind, target.target, base, article, number)
                if problem is not None:
                    problems.append(problem)
        return problems

    def checked_target(self, kind: str, target: str, base: str, article: Article, number: int) -> Problem | None:
        """On a help center every link, image and media file is kb's to check (an error). On any
        other MkDocs site only a link to a missing page is reported, as a warning: the level
        MkDocs itself gives it by default (validation.links.not_found), so kb check tells the
        writer and the build fails only where it fails without kb, under --strict."""
        if self.site.settings.help_center:
            message = self.target(kind, target, base, article)
            return error(article.rel_path, number, message) if message else None
        path = unquote(target.partition("#")[0].split("?", 1)[0])
        if kind != "link" or not is_local(target) or not path.endswith(".md"):
            return None
        message = self.target(kind, path, base, article)
        return warning(article.rel_path, number, message) if message else None

    def placeholder(self, found: Placeholder, line: str, article: Article) -> str | None:
        # Template code kb does not fill in is an error on a help center, unless another plugin
        # (e.g. macros) fills it in; any other site may show it as text on purpose.
        foreign = self.site.settings.templating or not self.site.settings.help_center
        if found.kind == "policy":
            return self.site.facts.resolve(found.key, found.filter, article.lang)[1]
        if found.kind == "video":
            if line.strip() != found.text:
                return f"video embed '{found.text}' must stand on a line of its own: move it to its own line"
            return None if found.key in self.video_ids else self.unknown_video(found.key)
        if foreign and "policy." not in found.text and "video(" not in found.text:
            return None
        if found.kind == "unknown":
            return f"unknown placeholder '{found.text}': {FILLED_IN}"
        if found.kind == "tag":
            return f"template tag '{found.text}' is not filled in by kb: {FILLED_IN}"
        what = {"not-closed": "is not closed", "not-opened": "is not opened", "single": "needs double braces"}
        return f"placeholder '{found.text}' {what[found.kind]}: write '{corrected(found.text)}'"

    def unknown_video(self, video_id: str) -> str:
        folder = self.videos_shown
        if video_id in self.broken_videos:
            return (f"video '{video_id}' is left out: {folder}/{video_id}.yml or its captions have errors "
                    "(listed with their lines); fix them")  # fmt: skip
        close = did_you_mean(video_id, sorted(self.video_ids))
        if close:
            return f"unknown video '{video_id}'{close} (videos are the {folder}/<id>.yml files)"
        if self.video_ids:
            return (f"unknown video '{video_id}': there is no {folder}/{video_id}.yml "
                    f"(the videos are: {', '.join(sorted(self.video_ids))})")  # fmt: skip
        return (f"unknown video '{video_id}': there is no {folder}/{video_id}.yml (no videos yet: a video "
                f"is a media file with a sidecar {folder}/<id>.yml)")  # fmt: skip

    # -- links, images and media ---------------------------------------------------------------

    def target(self, kind: str, target: str, base: str, article: Article) -> str | None:
        if not is_local(target):
            return None
        path, _, fragment = target.partition("#")
        path = unquote(path.split("?", 1)[0])
        if not path:
            return self.anchor(target, article.src_path, fragment, same_page=True) if fragment else None
        resolved = posixpath.normpath(posixpath.join(base, path))
        if path.endswith(".md"):
            if resolved in self.site.articles or (self.site.docs_dir / resolved).is_file():
                return self.anchor(target, resolved, fragment) if fragment else None
            hint = self.close_path(resolved, sorted(self.site.articles), base)
            return f"link to '{path}' but no page {self.docs_shown}/{resolved} exists{hint}"
        if not Path(path).suffix or path.endswith("/"):
            return None  # a folder-style URL: MkDocs leaves those alone, so do we
        if resolved in self.files or self.generated(resolved):
            return None
        return f"{TARGET_WORDS[kind]} '{target}' but no file {self.docs_shown}/{resolved} exists{self.close_file(resolved, base)}"

    def anchor(self, target: str, src_path: str, fragment: str, *, same_page: bool = False) -> str | None:
        if src_path not in self.site.articles:
            return None
        known = self.anchors_of(src_path)
        fragment = unquote(fragment)
        if fragment in known:
            return None
        where = "this page" if same_page else f"{self.docs_shown}/{src_path}"
        close = difflib.get_close_matches(fragment, known, n=1, cutoff=0.6)
        if close:
            hint = f": did you mean '#{close[0]}'?"
        elif known:
            hint = f" (its anchors: {', '.join('#' + a for a in known[:8])}{', ...' if len(known) > 8 else ''})"
        else:
            hint = " (it has no headings)"
        return f"link to '{target}' but {where} has no anchor '#{fragment}'{hint}"

    def anchors_of(self, src_path: str) -> list[str]:
        """The anchors of an article's built page: its headings' ids, as the toc extension
        will make them from the text with the policy facts filled in."""
        if src_path not in self._anchors:
            article = self.site.articles[src_path]
            body = self.site.facts.substitute(article.body, article.lang)
            self._anchors[src_path] = anchors(body, self.slugify, self.site.settings.heading_separator)
        return self._anchors[src_path]

    @cached_property
    def slugify(self) -> Callable[[str, str], str]:
        if self.site.settings.heading_slugify is not None:
            return self.site.settings.heading_slugify
        from markdown.extensions.toc import slugify

        return slugify

    @cached_property
    def files(self) -> set[str]:
        """Every file in docs_dir, docs-relative ("assets/box.png")."""
        docs = self.site.docs_dir
        return {p.relative_to(docs).as_posix() for p in docs.rglob("*") if p.is_file()} if docs.is_dir() else set()

    def generated(self, resolved: str) -> bool:
        """Files the build writes itself: a video's media, poster and captions."""
        parts = resolved.split("/")
        return len(parts) >= 3 and parts[-3] == "videos" and parts[-2] in self.video_ids

    def close_file(self, resolved: str, base: str) -> str:
        """A did-you-mean among files of the same type, by name ("boxx.png" -> "box.png")."""
        wanted = Path(resolved)
        same_kind = [Path(f) for f in sorted(self.files) if Path(f).suffix.lower() == wanted.suffix.lower()]
        stems = difflib.get_close_matches(wanted.stem, sorted({p.stem for p in same_kind}), n=1, cutoff=0.6)
        if not stems:
            return ""
        named = [p.as_posix() for p in same_kind if p.stem == stems[0]]
        best = difflib.get_close_matches(resolved, named, n=1, cutoff=0.0) or named
        return f": did you mean '{posixpath.relpath(best[0], base or '.')}'?"

    @staticmethod
    def close_path(resolved: str, candidates: list[str], base: str) -> str:
        close = difflib.get_close_matches(resolved, candidates, n=1, cutoff=0.6)
        return f": did you mean '{posixpath.relpath(close[0], base or '.')}'?" if close else ""
