"""Pages and video transcripts -> chunks, the unit the index stores and a hit points to.

An article gives one chunk per heading section (h2, h3, ...; the text before the first
heading goes with the page title), carrying the heading's id so a hit links to
``page/#section``. Long sections are split into overlapping windows. A video gives one chunk
for its title and summary, one per chapter (at the chapter's start) and one per
sentence-sized window of caption cues (at the window's start, ``videos/<id>/#t=SECONDS``).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser

from kb_tools.records import PageRecord, VideoRecord
from kb_tools.search.analyzer import normalize_text

MAX_WORDS = 180  # a section longer than this is split ...
OVERLAP_WORDS = 40  # ... into windows that overlap by this much
CUE_MIN_WORDS = 15
CUE_MAX_WORDS = 40
_SENTENCE_END = re.compile(r"[.!?।॥…]['\"”’)]*$")


@dataclass
class Chunk:
    url: str  # site-relative link of the hit: "returns/start-a-return/#step-2"
    page_url: str  # the page it belongs to (hits are grouped by it)
    title: str  # page or video title
    section: str  # heading (or chapter) of the chunk, "" for the page introduction
    heading_path: tuple[str, ...]
    text: str  # plain text of the section (NFC)
    lang: str
    kind: str  # "article" | "video"
    summary: str = ""
    category: str = ""
    products: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    start: float | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def embed_text(self) -> str:
        """What the embedding model sees: the chunk with its page context."""
        head = " › ".join([self.title, *self.heading_path])
        parts = [head]
        if self.summary:
            parts.append(self.summary)
        if self.tags:  # writers' own words for how shoppers ask: strong semantic hints
            parts.append(", ".join(self.tags))
        if self.text:
            parts.append(self.text)
        return "\n".join(parts)

    def to_json(self) -> dict[str, object]:
        d = asdict(self)
        d.pop("extra")
        return d

    @classmethod
    def from_json(cls, d: dict[str, object]) -> Chunk:
        d = dict(d)
        d["heading_path"] = tuple(d.get("heading_path") or ())  # type: ignore[arg-type]
        d["products"] = tuple(d.get("products") or ())  # type: ignore[arg-type]
        d["tags"] = tuple(d.get("tags") or ())  # type: ignore[arg-type]
        return cls(**d)  # type: ignore[arg-type]


_BLOCK = {
    "p", "div", "li", "ul", "ol", "table", "tr", "td", "th", "br", "dd", "dt", "dl",
    "blockquote", "pre", "section", "article", "details", "summary", "figure", "figcaption",
    "h1", "h2", "h3", "h4", "h5", "h6",
}
# h1 is the page title, indexed on its own.
_SKIP = {"h1", "script", "style", "template", "noscript", "svg", "button", "video", "audio"}
_HEADINGS = {"h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}


class _SectionParser(HTMLParser):
    """Splits a rendered page body into (level, id, heading text, body text) sections."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[list[object]] = [[1, "", "", []]]  # level, id, heading, parts
        self._skip_depth = 0
        self._skip_stack: list[str] = []
        self._heading: tuple[int, str] | None = None
        self._heading_parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if self._skip_depth or tag in _SKIP or "headerlink" in classes:
            if tag not in ("br", "img", "hr", "input", "source", "track"):
                self._skip_depth += 1
                self._skip_stack.append(tag)
            return
        if tag in _HEADINGS:
            self._heading = (_HEADINGS[tag], a.get("id") or "")
            self._heading_parts = []
            return
        if tag in _BLOCK:
            self._emit(" ")

    def handle_endtag(self, tag: str) -> None:
        if self._skip_depth:
            if self._skip_stack and self._skip_stack[-1] == tag:
                self._skip_stack.pop()
                self._skip_depth -= 1
            return
        if self._heading and tag in _HEADINGS:
            level, hid = self._heading
            self._heading = None
            self.sections.append([level, hid, normalize_text("".join(self._heading_parts)), []])
            return
        if tag in _BLOCK:
            self._emit(" ")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self._emit(data)

    def _emit(self, text: str) -> None:
        if self._heading is not None:
            self._heading_parts.append(text)
        else:
            self.sections[-1][3].append(text)  # type: ignore[union-attr]


def _windows(words: list[str]) -> list[str]:
    if len(words) <= MAX_WORDS:
        return [" ".join(words)]
    step = MAX_WORDS - OVERLAP_WORDS
    out = []
    for i in range(0, len(words), step):
        out.append(" ".join(words[i : i + MAX_WORDS]))
        if i + MAX_WORDS >= len(words):
            break
    return out


def _base_url(url: str) -> str:
    url = url.split("#", 1)[0]
    return url


def chunk_page(page: PageRecord) -> list[Chunk]:
    """One chunk per heading section of a rendered page (long sections split)."""
    parser = _SectionParser()
    parser.feed(page.html or "")
    parser.close()
    base = _base_url(page.url)
    common = dict(
        page_url=base, title=normalize_text(page.title), lang=page.lang, kind=page.kind,
        summary=normalize_text(page.summary), category=page.category, products=tuple(page.products),
        tags=tuple(page.tags),
    )
    chunks: list[Chunk] = []
    path: list[tuple[int, str]] = []
    for level, hid, heading, parts in parser.sections:
        text = normalize_text("".join(parts))  # type: ignore[arg-type]
        if level == 1:
            heading_path: tuple[str, ...] = ()
            url = base
        else:
            while path and path[-1][0] >= level:  # type: ignore[operator]
                path.pop()
            path.append((level, heading))  # type: ignore[arg-type]
            heading_path = tuple(h for _, h in path)
            url = f"{base}#{hid}" if hid else base
        if not text and level == 1:
            # Title-only introduction: still index the title and summary once.
            if any(s[0] != 1 for s in parser.sections):
                continue
        for window in _windows(text.split()) if text else [""]:
            chunks.append(
                Chunk(url=url, section=heading_path[-1] if heading_path else "",  # type: ignore[arg-type]
                      heading_path=heading_path, text=window, **common)  # type: ignore[arg-type]
            )
    if not chunks:  # a page with headings only and no intro: keep its title findable
        chunks.append(Chunk(url=base, section="", heading_path=(), text="", **common))  # type: ignore[arg-type]
    return chunks


def _fmt_time(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 60}:{s % 60:02d}"


def chunk_video(video: VideoRecord) -> list[Chunk]:
    """Title/summary, chapters and sentence-sized windows of transcript cues."""
    base = _base_url(video.url)
    common = dict(
        page_url=base, title=normalize_text(video.title), lang=video.lang, kind="video",
        summary=normalize_text(video.summary), category=video.category, products=tuple(video.products),
        tags=tuple(video.tags),
    )
    chapters = sorted(video.chapters, key=lambda c: c.start)

    def chapter_at(t: float) -> str:
        name = ""
        for ch in chapters:
            if ch.start <= t + 1e-6:
                name = normalize_text(ch.title)
        return name

    def at(t: float) -> str:
        return f"{base}#t={int(t)}"

    chunks = [Chunk(url=base, section="", heading_path=(), text="", start=0.0, **common)]  # type: ignore[arg-type]
    cues = [c for c in sorted(video.cues, key=lambda c: c.start) if normalize_text(c.text)]
    if not cues:  # no transcript: the chapter titles alone
        for ch in chapters:
            title = normalize_text(ch.title)
            chunks.append(Chunk(url=at(ch.start), section=title, heading_path=(title,), text=title,
                                start=float(int(ch.start)), **common))  # type: ignore[arg-type]
        return chunks
    # Windows never span a chapter start, and the first window of a chapter starts at the
    # chapter's own time, so a chapter hit and its words share one chunk.
    bounds = [ch.start for ch in chapters]

    def chapter_index(t: float) -> int:
        return sum(1 for b in bounds if b <= t + 1e-6)

    window: list[str] = []
    start: float | None = None
    current = -1
    for cue in cues:
        text = normalize_text(cue.text)
        n = len(text.split())
        idx = chapter_index(cue.start)
        if window and (idx != current or len(" ".join(window).split()) + n > CUE_MAX_WORDS):
            chunks.append(_cue_chunk(window, start, chapter_at, at, common))
            window, start = [], None
        if start is None:
            start = bounds[idx - 1] if idx != current and idx > 0 else cue.start
        current = idx
        window.append(text)
        count = len(" ".join(window).split())
        if count >= CUE_MIN_WORDS and _SENTENCE_END.search(text):
            chunks.append(_cue_chunk(window, start, chapter_at, at, common))
            window, start = [], None
    if window:
        chunks.append(_cue_chunk(window, start, chapter_at, at, common))
    return chunks


def _cue_chunk(window, start, chapter_at, at, common) -> Chunk:  # type: ignore[no-untyped-def]
    t = float(int(start or 0.0))
    section = chapter_at(t)
    return Chunk(url=at(t), section=section or _fmt_time(t), heading_path=(section,) if section else (),
                 text=" ".join(window), start=t, **common)


def chunk_all(pages: list[PageRecord], videos: list[VideoRecord]) -> list[Chunk]:
    chunks: list[Chunk] = []
    for page in pages:
        chunks.extend(chunk_page(page))
    for video in videos:
        chunks.extend(chunk_video(video))
    return chunks
