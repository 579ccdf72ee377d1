"""Plain records passed between the build stages (content -> video -> search index).

They are the contract between modules: the plugin fills them while MkDocs renders pages, and
``kb_tools.search.build_index`` consumes them. Nothing here imports MkDocs, torch or whoosh.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PageRecord:
    """One rendered help page (an article, or the text part of a video page)."""

    url: str  # site-relative, directory style: "returns/start-a-return/"
    title: str
    html: str  # rendered page body (policy facts already substituted); headings carry ids
    lang: str  # "en", "bn", "gu", ...
    summary: str = ""
    category: str = ""
    products: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    contact_topic: str = ""
    kind: str = "article"  # "article" | "video"
    src_path: str = ""  # path of the Markdown source relative to docs_dir


@dataclass(frozen=True)
class Cue:
    """One caption cue (or a merged, sentence-sized window of cues)."""

    start: float  # seconds
    end: float
    text: str


@dataclass(frozen=True)
class Chapter:
    start: float
    title: str


@dataclass(frozen=True)
class VideoRecord:
    """What the search index needs to know about one video and its transcript in one language."""

    id: str
    url: str  # site-relative page of the video: "videos/start-a-return/"
    title: str
    lang: str
    summary: str = ""
    category: str = ""
    products: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    contact_topic: str = ""
    duration: float = 0.0
    chapters: tuple[Chapter, ...] = ()
    cues: tuple[Cue, ...] = field(default_factory=tuple)
