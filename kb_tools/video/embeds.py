"""Video embeds in articles: a line of its own `{{ video("id") }}` becomes the video's poster,
title and chapter links, in the article's language. Lines inside code fences stay as written."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence, Set

from kb_tools.content.languages import path_language
from kb_tools.problems import Problem, error
from kb_tools.records import Chapter
from kb_tools.video.pages import embed
from kb_tools.video.sources import VideoSource

EMBED_RE = re.compile(r"""^[ \t]*\{\{\s*video\(\s*(?:"([^"]*)"|'([^']*)')\s*\)\s*\}\}[ \t]*$""")
FENCE_RE = re.compile(r"^[ \t]*(```|~~~)")


class EmbedRenderer:
    """Renders the embeds of one page at a time. It reads the library's videos as they are
    when a page renders (the mappings are the library's own, filled by its `load()`)."""

    def __init__(self, *, sources: Mapping[str, VideoSource], broken: Set[str],
                 chapters: Mapping[str, list[Chapter]], duration: Callable[[VideoSource], float | None],
                 docs_shown: str, videos_shown: str, languages: Sequence[str],
                 use_directory_urls: bool) -> None:  # fmt: skip
        self.sources = sources
        self.broken = broken  # ids whose sidecar has errors
        self.chapters = chapters  # id -> chapters inside the video's real duration
        self.duration = duration
        self.docs_shown = docs_shown  # docs_dir as writers know it, for problems
        self.videos_shown = videos_shown
        self.languages = tuple(languages)
        self.use_directory_urls = use_directory_urls

    def render(self, markdown: str, src_path: str) -> tuple[str, list[Problem]]:
        """Expand each `{{ video("id") }}` line (outside code fences) of the page at src_path
        (docs-relative); an unknown or broken video is a problem on its line."""
        shown = src_path if self.docs_shown in ("", ".") else f"{self.docs_shown}/{src_path}"
        problems: list[Problem] = []
        out: list[str] = []
        fence: str | None = None
        for n, line in enumerate(markdown.split("\n"), start=1):
            fm = FENCE_RE.match(line)
            if fm:
                fence = None if fence == fm.group(1) else (fence or fm.group(1))
            m = None if fence else EMBED_RE.match(line)
            if not m:
                out.append(line)
                continue
            video_id = m.group(1) if m.group(1) is not None else m.group(2)
            source = self.sources.get(video_id)
            if source is None:
                problems.append(error(shown, n, self._missing(video_id)))
                out.append(line)
                continue
            default = self.languages[0] if self.languages else source.lang
            lang = path_language(src_path, self.languages) or default
            chapters = source.chapters_in(self.chapters[video_id], lang)
            html = embed(source, chapters, src_path, lang, self.duration(source), self.use_directory_urls,
                         has_page=lang == default or lang in source.languages(), default=default)  # fmt: skip
            out.extend(["", html, ""])
        return "\n".join(out), problems

    def _missing(self, video_id: str) -> str:
        if video_id in self.broken:
            return (f"video '{video_id}' is left out: {self.videos_shown}/{video_id}.yml or its captions "
                    "have errors (listed with their lines); fix them")  # fmt: skip
        known = ", ".join(sorted(self.sources)) or "none yet"
        return f"unknown video '{video_id}'; videos are the {self.videos_shown}/*.yml files (known: {known})"
