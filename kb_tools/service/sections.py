"""One answer's content for the widget: a section of a built help page, taken by its anchor
from the site folder and cleaned so that it can be shown inside the shop's page.

The built page is the source (what the writer's Markdown became, policy numbers and embeds
included). The section is the heading named by the URL's anchor and what follows it up to
the next heading of the same or a higher level; without an anchor, the page's introduction.
A video page's answer is the player's media and the transcript of the chapter the moment
falls in. Relative links and media become absolute URLs on the help site, and the HTML goes
through an allow-list sanitiser (ammonia, via nh3): no scripts, event handlers, iframes,
styles, forms or unknown attributes survive.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import nh3
from lxml import html as lxml_html

TAGS = {
    "p", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd", "strong", "em", "b", "i",
    "u", "s", "small", "sub", "sup", "mark", "kbd", "code", "pre", "blockquote", "table", "caption",
    "thead", "tbody", "tr", "th", "td", "br", "hr", "a", "img", "figure", "figcaption", "span", "div",
    "details", "summary", "video", "source", "track", "abbr",
}
ATTRIBUTES = {
    "*": {"lang", "dir", "title"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "video": {"src", "poster", "controls", "preload", "playsinline", "width", "height"},
    "source": {"src", "type"},
    "track": {"kind", "srclang", "label", "src", "default"},
    "details": {"open"},
}
# Removed with everything inside them (other unknown tags only lose the tag, keeping the text).
DROPPED = {"script", "style", "iframe", "object", "embed", "noscript", "template", "svg", "math",
           "form", "button", "select", "textarea", "canvas", "audio"}
URL_ATTRIBUTES = ("href", "src", "poster")
# kb's and Material's page furniture that is not part of an answer.
FURNITURE = ('.//a[contains(concat(" ", @class, " "), " headerlink ")]',
             './/div[contains(concat(" ", @class, " "), " kb-feedback ")]',
             './/aside', './/nav[contains(concat(" ", @class, " "), " md-tags ")]')
HEADING = re.compile(r"^h([1-6])$")
MAX_URL = 500


class SectionError(Exception):
    """A URL that names no section: `status` 404 (not there) or 422 (not a help-page URL)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def sanitise(fragment: str) -> str:
    """`fragment` with only the allow-listed tags, attributes and URL schemes."""
    return nh3.clean(fragment, tags=TAGS, clean_content_tags=DROPPED, attributes=ATTRIBUTES,
                     url_schemes={"http", "https", "mailto", "tel"}, link_rel="noopener noreferrer")


@dataclass(frozen=True)
class SectionUrl:
    path: str  # the page, site-relative: "returns/return-policy/"
    anchor: str  # "the-return-window", "" for the introduction
    start: float | None  # a video moment ("#t=83")

    @classmethod
    def parse(cls, url: str) -> SectionUrl:
        """A search hit's url ("returns/return-policy/#the-return-window", "videos/x/#t=83")."""
        if not url or len(url) > MAX_URL:
            raise SectionError(422, f"Query parameter 'url' must be a help-page URL of 1 to {MAX_URL} characters, "
                                    "as in a search hit's url.")
        parts = urlsplit(url)
        path = unquote(parts.path).lstrip("/")
        if parts.scheme or parts.netloc or url.startswith(("/", "\\")) or "\\" in path or "\0" in path \
                or any(seg in ("..", ".") for seg in path.split("/")):
            raise SectionError(422, "Query parameter 'url' must be a site-relative help-page URL such as "
                                    "returns/return-policy/#the-return-window (a search hit's url).")
        fragment = unquote(parts.fragment)
        start = None
        m = re.fullmatch(r"t=(\d+(?:\.\d+)?)", fragment)
        if m:
            start, fragment = float(m.group(1)), ""
        return cls(path, fragment, start)


class SiteSections:
    """Sections of the built site in `site_dir`, cleaned; the last `size` answers are kept,
    keyed by the page file's identity so a rebuilt site is never answered from memory."""

    def __init__(self, site_dir: Path, size: int = 256) -> None:
        self.site_dir = Path(site_dir)
        self.size = size
        self._cache: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def section(self, url: str, base: str, lang: str | None = None) -> dict[str, Any]:
        """The answer at `url` (a search hit's url) with links made absolute on `base` (the
        help site's URL, ending in "/")."""
        where = SectionUrl.parse(url)
        page_file = self._page_file(where.path)
        st = page_file.stat()
        key = (str(page_file), st.st_ino, st.st_mtime_ns, st.st_size, where, base, lang)
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
        answer = self._read(page_file, where, base, lang)
        with self._lock:
            self._cache[key] = answer
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return answer

    def _page_file(self, path: str) -> Path:
        root = self.site_dir.resolve()
        target = (root / path) if path.endswith(".html") else (root / path / "index.html")
        try:
            resolved = target.resolve()
            resolved.relative_to(root)
        except (OSError, ValueError):
            raise SectionError(404, f"There is no help page at /{path}") from None
        if not resolved.is_file():
            raise SectionError(404, f"There is no help page at /{path}")
        return resolved

    def _read(self, page_file: Path, where: SectionUrl, base: str, lang: str | None) -> dict[str, Any]:
        page_url = urljoin(base, where.path)
        doc = lxml_html.fromstring(page_file.read_bytes())
        article = _first(doc, ('.//article[contains(concat(" ", @class, " "), " md-content__inner ")]',
                               ".//main", ".//body"))
        if article is None:
            article = doc
        for xpath in FURNITURE:
            for node in article.xpath(xpath):
                _drop(node)
        _absolute_urls(article, page_url)
        h1 = _first(article, (".//h1",))
        title = _text(h1) if h1 is not None else _text(_first(doc, (".//title",)))
        page_lang = (doc.get("lang") or "").split("-")[0]
        player = _first(article, ('.//div[contains(concat(" ", @class, " "), " kb-video ")]//video',))
        if player is not None and not where.anchor:
            video, html = _video_answer(article, player, where.start, lang or page_lang)
            return {"url": page_url + (f"#t={where.start:g}" if where.start is not None else ""), "page": page_url,
                    "title": title, "section": "", "kind": "video", "lang": page_lang, "html": sanitise(html),
                    "video": video}
        if where.anchor:
            heading = next((n for n in article.iter() if n.get("id") == where.anchor), None)
            if heading is None:
                raise SectionError(404, f"The page /{where.path} has no section #{where.anchor}.")
            section, nodes = _text(heading), _section_nodes(heading)
        else:
            section, nodes = "", _introduction(article, h1)
        html = "".join(lxml_html.tostring(n, encoding="unicode", with_tail=True) for n in nodes)
        return {"url": page_url + (f"#{where.anchor}" if where.anchor else ""), "page": page_url, "title": title,
                "section": section, "kind": "article", "lang": page_lang, "html": sanitise(html), "video": None}


def _first(node: Any, xpaths: tuple[str, ...]) -> Any:
    for xpath in xpaths:
        found = node.xpath(xpath)
        if found:
            return found[0]
    return None


def _text(node: Any) -> str:
    return " ".join(node.text_content().split()) if node is not None else ""


def _drop(node: Any) -> None:
    parent = node.getparent()
    if parent is None:
        return
    tail = node.tail or ""
    prev = node.getprevious()
    if prev is not None:
        prev.tail = (prev.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(node)


def _absolute_urls(root: Any, page_url: str) -> None:
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        for name in URL_ATTRIBUTES:
            value = node.get(name)
            if value is not None:
                node.set(name, urljoin(page_url, value.strip()))


def _level(node: Any) -> int | None:
    m = HEADING.match(node.tag) if isinstance(node.tag, str) else None
    return int(m.group(1)) if m else None


def _section_nodes(heading: Any) -> list[Any]:
    """What follows `heading` up to the next heading of the same or a higher level; a
    non-heading anchor (a list item, a table) is its own section."""
    level = _level(heading)
    if level is None:
        return [heading]
    nodes = []
    for sibling in heading.itersiblings():
        lvl = _level(sibling)
        if lvl is not None and lvl <= level:
            break
        nodes.append(sibling)
    return nodes


def _introduction(article: Any, h1: Any) -> list[Any]:
    """The page's text before its first sub-heading (all of it when it has none)."""
    start = h1.itersiblings() if h1 is not None else iter(article)
    nodes = []
    for node in start:
        if _level(node) is not None:
            break
        nodes.append(node)
    if not any(_text(n) for n in nodes):
        nodes = [n for n in (h1.itersiblings() if h1 is not None else article) if _level(n) != 1]
    return nodes


def _video_answer(article: Any, player: Any, start: float | None, lang: str) -> tuple[dict[str, Any], str]:
    source = _first(player, (".//source[@src]",))
    tracks = [{"kind": t.get("kind", ""), "srclang": t.get("srclang", ""), "label": t.get("label", ""),
               "src": t.get("src", "")} for t in player.xpath(".//track[@src]") if t.get("kind") == "captions"]
    video = {"src": (source.get("src") if source is not None else player.get("src")) or "",
             "poster": player.get("poster") or "", "tracks": tracks, "start": start or 0}
    chapters = sorted(float(a.get("data-kb-seek")) for a in article.xpath('.//nav//a[@data-kb-seek]'))
    if start is None:
        summary = _first(article, ('.//div[contains(concat(" ", @class, " "), " kb-video ")]/following-sibling::p',))
        return video, lxml_html.tostring(summary, encoding="unicode") if summary is not None else ""
    begin = max((c for c in chapters if c <= start + 0.5), default=start)
    end = min((c for c in chapters if c > start + 0.5), default=float("inf"))
    transcripts = article.xpath('.//*[@data-kb-transcript]')
    transcript = next((t for t in transcripts if t.get("data-kb-transcript") == lang), None)
    if transcript is None and transcripts:
        transcript = transcripts[0]
    if transcript is None:
        return video, ""
    lines = [_text(_first(cue, ('.//*[contains(@class, "cue-text")]',)))
             for cue in transcript.xpath(".//li[@data-start]") if begin - 0.5 <= float(cue.get("data-start")) < end]
    text_lang = transcript.get("data-kb-transcript") or lang
    paragraphs = "".join(f"<p>{escape(line)}</p>" for line in lines if line)
    return video, f'<div lang="{escape(text_lang)}">{paragraphs}</div>'

