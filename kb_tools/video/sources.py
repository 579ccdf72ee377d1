"""Video sources: `videos/<id>.yml` beside the media and captions, read and validated.

Every problem carries the line of the key it concerns, found by composing the YAML node
tree (safe loader only) before constructing the values.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kb_tools import safe_yaml
from kb_tools.content.frontmatter import front_matter_of
from kb_tools.problems import Problem, error, shown_path, warning
from kb_tools.records import Chapter
from kb_tools.video.captions import CaptionCue, parse_timestamp, read_cues

KEYS = (
    "title", "summary", "file", "lang", "products", "tags", "category", "captions",
    "chapters", "poster_at", "related", "contact_topic",
)  # fmt: skip
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_LANG = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")


@dataclass
class VideoSource:
    """One video as the writer described it, with every path resolved and checked."""

    id: str
    yml: str  # project-relative path of the sidecar, for problems
    title: str
    media: Path  # absolute path of the source media
    media_shown: str
    summary: str = ""
    lang: str = "en"
    products: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    category: str = ""
    contact_topic: str = ""
    poster_at: float | None = None  # seconds; None: the quietest frame near the start
    related: tuple[str, ...] = ()  # docs-relative Markdown paths
    related_titles: dict[str, str] = field(default_factory=dict)
    captions: dict[str, list[CaptionCue]] = field(default_factory=dict)  # lang -> cues
    chapters: list[Chapter] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)  # key -> line in the sidecar
    chapter_lines: list[int] = field(default_factory=list)  # line of each chapter ...
    chapters_file: str = ""  # ... in this file (a chapters .vtt), else in the sidecar
    chapter_titles: dict[float, dict[str, str]] = field(default_factory=dict)  # start -> lang -> title
    titles: dict[str, str] = field(default_factory=dict)  # lang -> title, the video's own language included
    summaries: dict[str, str] = field(default_factory=dict)  # lang -> summary

    def chapters_in(self, chapters: list[Chapter], lang: str) -> list[Chapter]:
        """`chapters` with their titles in `lang` where the sidecar gives one."""
        return [Chapter(c.start, self.chapter_titles.get(c.start, {}).get(lang, c.title)) for c in chapters]

    def title_in(self, lang: str) -> str:
        """The title in `lang` where the sidecar gives one, else in the video's language."""
        return self.titles.get(lang) or self.title

    def summary_in(self, lang: str) -> str:
        return self.summaries.get(lang) or self.summary

    def languages(self) -> list[str]:
        """The languages a shopper can follow it in: its own, then its captions'."""
        return list(dict.fromkeys([self.lang, *sorted(self.captions)]))

    def line(self, key: str) -> int:
        return self.lines.get(key, 1)


class _Reader:
    """Validates one sidecar, collecting every problem instead of stopping at the first."""

    def __init__(self, yml: Path, project_dir: Path, videos_dir: Path, docs_dir: Path,
                 categories: dict[str, str] | None) -> None:  # fmt: skip
        self.yml = yml
        self.project_dir = project_dir
        self.videos_dir = videos_dir.resolve()
        self.docs_dir = docs_dir
        self.categories = categories or {}
        self.shown = shown_path(yml, project_dir)
        self.problems: list[Problem] = []

    def err(self, line: int, message: str) -> None:
        self.problems.append(error(self.shown, line, message))

    def read(self) -> VideoSource | None:
        video_id = self.yml.stem
        if not _ID.match(video_id):
            self.err(0, f"video id {video_id!r} (the file name) must be lower-case letters, "
                        "digits, '-' or '_', starting with a letter or digit; rename the file")  # fmt: skip
            return None
        try:
            text = self.yml.read_text(encoding="utf-8")
            node = safe_yaml.compose(text)
            data = safe_yaml.construct(node)
        except UnicodeDecodeError:
            self.err(0, "not UTF-8 text; save the file as UTF-8")
            return None
        except safe_yaml.YamlLimitError as exc:
            self.err(exc.problem_mark.line + 1 if exc.problem_mark else 1, str(exc.problem))
            return None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            line = mark.line + 1 if mark else 0
            what = getattr(exc, "problem", None) or str(exc)
            self.err(line, f"broken YAML: {what}; check the indentation and quotes")
            return None
        if not isinstance(node, yaml.MappingNode) or not isinstance(data, dict):
            self.err(1, "expected a mapping of keys such as 'title:' and 'file:'")
            return None
        lines: dict[str, int] = {}
        values: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            lines[key] = key_node.start_mark.line + 1
            values[key] = value_node
            if key not in KEYS:
                close = difflib.get_close_matches(key, KEYS, n=1)
                hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(KEYS)}"
                self.err(lines[key], f"unknown key '{key}'; {hint}")
        lang = self.text(data, lines, "lang") or "en"
        titles = self.translated(data, lines, "title", lang)
        summaries = self.translated(data, lines, "summary", lang)
        title = titles.get(lang, "")
        file = self.text(data, lines, "file")
        if not title:
            self.err(lines.get("title", 1), "missing 'title:' (the video's name shown to shoppers)")
        if not file:
            self.err(lines.get("file", 1), "missing 'file:' (the media file beside this .yml)")
        media = self.path_in_videos(file, lines.get("file", 1), "file") if file else None
        if media is not None and not media.is_file():
            self.err(lines["file"], f"video file not found: {shown_path(media, self.project_dir)}")
            media = None
        source = VideoSource(
            id=video_id,
            yml=self.shown,
            title=title or video_id,
            media=media or Path(),
            media_shown=shown_path(media, self.project_dir) if media else "",
            summary=summaries.get(lang, ""),
            lang=lang,
            products=self.strings(data, lines, "products"),
            tags=self.strings(data, lines, "tags"),
            category=self.text(data, lines, "category"),
            contact_topic=self.text(data, lines, "contact_topic"),
            lines=lines,
            titles=titles,
            summaries=summaries,
        )
        if not _LANG.match(source.lang):
            self.err(lines["lang"], f"'lang: {source.lang}' is not a language code like 'en' or 'bn'")
        if source.category and self.categories and source.category not in self.categories:
            close = difflib.get_close_matches(source.category, list(self.categories), n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"use one of: {', '.join(self.categories)}"
            self.err(lines["category"], f"unknown category '{source.category}'; {hint}")
        self.poster_at(source, data.get("poster_at"))
        self.captions(source, data.get("captions"), values.get("captions"))
        self.chapters(source, data.get("chapters"), values.get("chapters"))
        self.related(source, data.get("related"), values.get("related"))
        if any(p.is_error for p in self.problems) or media is None:
            return None
        return source

    # -- field readers ----------------------------------------------------------------------
    def text(self, data: dict, lines: dict[str, int], key: str) -> str:
        value = data.get(key)
        if value is None:
            return ""
        if isinstance(value, (dict, list)):
            self.err(lines[key], f"'{key}:' must be a single text value")
            return ""
        return str(value).strip()

    def translated(self, data: dict, lines: dict[str, int], key: str, lang: str) -> dict[str, str]:
        """A text, or a text per language ({en: ..., bn: ...}, the video's language included):
        {lang: text}."""
        value = data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            text = self.text(data, lines, key)
            return {lang: text} if text else {}
        texts: dict[str, str] = {}
        for code, text in value.items():
            if not isinstance(code, str) or not _LANG.match(code):
                self.err(lines[key], f"'{key}:' language '{code}' is not a code like 'en' or 'bn'")
            elif not isinstance(text, (str, int, float)) or isinstance(text, bool) or not str(text).strip():
                self.err(lines[key], f"'{key}:' in '{code}' must be text")
            else:
                texts[code] = str(text).strip()
        if lang not in texts and texts:
            self.err(lines[key], f"'{key}:' by language must include the video's language '{lang}', "
                                 f"e.g. {key}: {{{lang}: ..., {next(iter(texts))}: ...}}")  # fmt: skip
            return {}
        return texts

    def strings(self, data: dict, lines: dict[str, int], key: str) -> tuple[str, ...]:
        value = data.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            return (value.strip(),)
        if isinstance(value, list) and all(isinstance(v, (str, int)) for v in value):
            return tuple(str(v).strip() for v in value)
        self.err(lines[key], f"'{key}:' must be a list of names, e.g. [blender-x2, jars]")
        return ()

    def path_in_videos(self, name: str, line: int, key: str) -> Path | None:
        if Path(name).name.startswith("-"):
            self.err(line, f"'{key}: {name}': a file name starting with '-' is not accepted "
                           "(ffmpeg would read it as an option); rename the file")  # fmt: skip
            return None
        path = (self.yml.parent / name).resolve()
        if not path.is_relative_to(self.videos_dir):
            self.err(line, f"'{key}: {name}' points outside the videos folder "
                           f"({shown_path(self.videos_dir, self.project_dir)}/); keep media and "
                           "captions inside it")  # fmt: skip
            return None
        return path

    def cue_file(self, name: str, line: int, key: str, what: str) -> tuple[list[CaptionCue], str] | None:
        """The cues of a caption or chapters file the sidecar names, and the file as shown to
        writers; None when it cannot be read (the problem is reported)."""
        path = self.path_in_videos(name, line, key)
        if path is None:
            return None
        shown = shown_path(path, self.project_dir)
        if not path.is_file():
            self.err(line, f"{what} file not found: {shown}")
            return None
        cues, problems = read_cues(path, shown)
        self.problems.extend(problems)
        return cues, shown

    def poster_at(self, source: VideoSource, value: Any) -> None:
        if value is None:
            return
        seconds = value if isinstance(value, (int, float)) and not isinstance(value, bool) else (
            parse_timestamp(value) if isinstance(value, str) else None)  # fmt: skip
        if seconds is None or seconds < 0:
            self.err(source.line("poster_at"), f"'poster_at: {value}' must be seconds, e.g. 3.5")
            return
        source.poster_at = float(seconds)

    def captions(self, source: VideoSource, value: Any, node: yaml.Node | None) -> None:
        if value is None:
            return
        if not isinstance(value, dict) or not isinstance(node, yaml.MappingNode):
            self.err(source.line("captions"), "'captions:' must map a language to a file, "
                     "e.g. 'en: start-a-return.en.vtt'")  # fmt: skip
            return
        for key_node, value_node in node.value:
            lang, name, line = str(key_node.value), value_node.value, key_node.start_mark.line + 1
            if not _LANG.match(lang):
                self.err(line, f"caption language '{lang}' is not a code like 'en' or 'bn'")
                continue
            if not isinstance(name, str) or not name.lower().endswith((".vtt", ".srt")):
                self.err(line, f"captions for '{lang}' must be a .vtt or .srt file")
                continue
            found = self.cue_file(name, line, f"captions.{lang}", "caption")
            if found is not None:
                source.captions[lang] = found[0]

    def chapters(self, source: VideoSource, value: Any, node: yaml.Node | None) -> None:
        if value is None:
            return
        line = source.line("chapters")
        if isinstance(value, str):
            if not value.lower().endswith(".vtt"):
                self.err(line, "'chapters:' must be a list of {start, title} or a chapters .vtt file")
                return
            found = self.cue_file(value, line, "chapters", "chapters")
            if found is not None:
                cues, source.chapters_file = found
                source.chapters = [Chapter(c.start, c.plain) for c in cues]
                source.chapter_lines = [c.line for c in cues]
            return
        if not isinstance(value, list) or not isinstance(node, yaml.SequenceNode):
            self.err(line, "'chapters:' must be a list of {start, title} or a chapters .vtt file")
            return
        for item, item_node in zip(value, node.value, strict=True):
            item_line = item_node.start_mark.line + 1
            if not isinstance(item, dict) or set(item) - {"start", "title"} or "title" not in item:
                self.err(item_line, "a chapter is '- {start: 12, title: Pack the item}' (the title "
                                    "may also map languages: '{en: Pack the item, bn: …}')")  # fmt: skip
                continue
            title = item["title"]
            if isinstance(title, dict):
                names = {str(k): str(v).strip() for k, v in title.items() if v is not None}
                default = names.get(source.lang) or next(iter(names.values()), "")
                if source.lang not in names:
                    self.err(item_line, f"chapter titles by language must include the video's "
                                        f"language '{source.lang}'")  # fmt: skip
                    continue
            else:
                names, default = {}, str(title).strip()
            start = item.get("start", 0)
            seconds = start if isinstance(start, (int, float)) and not isinstance(start, bool) else (
                parse_timestamp(start) if isinstance(start, str) else None)  # fmt: skip
            if seconds is None or seconds < 0:
                self.err(item_line, f"chapter start {start!r} must be seconds or mm:ss")
                continue
            if source.chapters and seconds <= source.chapters[-1].start:
                self.err(item_line, f"chapter starts at {seconds}s, not after the previous "
                                    f"chapter ({source.chapters[-1].start}s); keep them in time order")  # fmt: skip
                continue
            source.chapters.append(Chapter(float(seconds), default))
            source.chapter_lines.append(item_line)
            if names:
                source.chapter_titles[float(seconds)] = names

    def related(self, source: VideoSource, value: Any, node: yaml.Node | None) -> None:
        if value is None:
            return
        if isinstance(value, str):
            value = [value]
            items = [(value[0], source.line("related"))]
        elif isinstance(value, list) and isinstance(node, yaml.SequenceNode):
            items = [(v, n.start_mark.line + 1) for v, n in zip(value, node.value, strict=True)]
        else:
            self.err(source.line("related"), "'related:' must be a list of article paths")
            return
        paths: list[str] = []
        for item, line in items:
            if not isinstance(item, str) or not item.endswith(".md"):
                self.err(line, f"related article {item!r} must be a docs path like returns/policy.md")
                continue
            rel = item.strip().lstrip("/")
            target = self.docs_dir / rel
            if not target.resolve().is_relative_to(self.docs_dir.resolve()):
                self.err(line, f"related article {item!r} points outside the docs folder")
                continue
            if self.docs_dir.is_dir() and not target.is_file():
                self.problems.append(
                    warning(self.shown, line, f"related article not found: "
                            f"{shown_path(target, self.project_dir)}")
                )  # fmt: skip
                continue
            paths.append(rel)
            title = article_title(target)
            if title:
                source.related_titles[rel] = title
        source.related = tuple(paths)


def article_title(path: Path) -> str:
    """The title from an article's front matter, or its first heading."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
    title = front_matter_of(text).get("title")
    if title:
        return str(title)
    m = re.search(r"^#\s+(.+)$", text, re.M)
    return m.group(1).strip() if m else ""


def load_sources(project_dir: Path, videos_dir: Path, docs_dir: Path,
                 categories: dict[str, str] | None = None) -> tuple[list[VideoSource], list[Problem]]:  # fmt: skip
    sources: list[VideoSource] = []
    problems: list[Problem] = []
    if not videos_dir.is_dir():
        return sources, problems
    for yml in sorted(videos_dir.glob("*.yml")) + sorted(videos_dir.glob("*.yaml")):
        reader = _Reader(yml, project_dir, videos_dir, docs_dir, categories)
        source = reader.read()
        problems.extend(reader.problems)
        if source is not None:
            sources.append(source)
    return sources, problems
