"""kb's files in the shopper's browser: each page loads only what it uses.

- `assets/kb/kb.<hash>.js`, deferred, on every page: kb-site.js (where `kb serve` is), then
  kb-events.js (with analytics), kb-search.js (Material's search box answered by the API, when
  there is one), kb-handoff.js (the contacts offered after "No", with feedback) and
  kb-feedback.js (with feedback or analytics). A few kB; never render-blocking.
- `assets/kb/kb.<hash>.css`: the search results' and feedback box's styles, loaded by the
  bundle when one of them starts (KbSite.css()), so no page waits for it.
- `assets/kb/kb-video.<hash>.js`: deferred, only on pages that show a video (an embed, a video
  page, the videos index). The player's styles (kb-video.css, ~3 kB minified) are inline in
  those pages' <head>: a stylesheet file would either hold back the first paint by a round
  trip (render-blocking, +0.17 s of Lighthouse's mobile FCP against plain Material) or let the
  player, poster and chapter list jump after it (non-blocking).
- Where kb adds the videos section to Material's navigation tabs, a few bytes of inline style
  narrow the tabs' padding, so every label fits at 1280 px (`compact_tabs`).
- Both are one `<style>` element, which `kb serve`'s CSP allows by its SHA-256
  (kb_tools/service/security.py); a site with its own CSP adds that hash (`kb check` does not
  know it), or the tabs scroll as Material's do and the player falls back to the browser's
  default look.
- `assets/kb/api.json`: `{"api": false}`, the quiet answer to the bundle's one question on a
  static host; `kb serve` answers the same path with true.

Names carry a hash of the content, so `kb serve` (and any CDN) can cache them for a year.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from mkdocs.utils import get_relative_url

SOURCES = Path(__file__).parent / "assets"
PREFIX = "assets/kb/"
API_PROBE = PREFIX + "api.json"
CSS_MARK = '"__KB_CSS__"'
VIDEO_MARK = 'class="kb-video'
TABS_MARK = 'class="md-tabs"'
# Material gives the tab bar its 61rem grid (1216 px on 1280-1440 px screens) and 0.6rem of
# padding on each side of every label, and scrolls what does not fit without a scrollbar: the
# sample's ten top-level sections (home, eight categories, the videos kb adds) need 1247 px, so
# the last one was cut to "Vide". Inline, so the tabs do not move after the first paint.
COMPACT_TABS = ".md-tabs__item{padding-left:.4rem;padding-right:.4rem}"


def _hashed(stem: str, suffix: str, content: bytes) -> str:
    return f"{PREFIX}{stem}.{hashlib.sha256(content).hexdigest()[:10]}{suffix}"


def minified_css(css: str) -> str:
    """`css` without comments and the whitespace no rule needs (a space between selectors and
    between values stays: it means something there)."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    css = re.sub(r"\s+", " ", css)
    css = re.sub(r"\s*([{};,>])\s*", r"\1", css)
    css = re.sub(r":\s+", ":", css)  # after a colon only: "a :hover" is not "a:hover"
    return css.replace(";}", "}").strip()


def _join(names: list[str]) -> bytes:
    return "\n".join((SOURCES / name).read_text(encoding="utf-8").rstrip() + "\n" for name in names).encode("utf-8")


@dataclass
class BrowserAssets:
    """The files to add to the site (`files`: uri -> bytes) and the tags each page needs."""

    analytics: bool = True
    feedback: bool = True
    files: dict[str, bytes] = field(default_factory=dict)
    script: str = ""
    video_css: str = ""  # the player's styles, minified, inline on pages with a video
    video_js: str | None = None
    compact_tabs: bool = False  # kb adds a top-level section (the videos) to the tabs

    def __post_init__(self) -> None:
        css = _join(["kb-search.css"] + (["kb-feedback.css"] if self.feedback else []))
        css_uri = _hashed("kb", ".css", css)
        scripts = ["kb-site.js"]
        scripts += ["kb-events.js"] if self.analytics else []
        scripts += ["kb-search.js"]
        # The contact channels after "No" (kb-handoff.js, shared with the widget) come before
        # the feedback box that offers them.
        scripts += ["kb-handoff.js"] if self.feedback else []
        scripts += ["kb-feedback.js"] if self.feedback or self.analytics else []
        js = _join(scripts).replace(CSS_MARK.encode(), f'"{css_uri[len(PREFIX):]}"'.encode(), 1)
        self.script = _hashed("kb", ".js", js)
        self.files[self.script] = js
        self.files[css_uri] = css
        self.files[API_PROBE] = b'{"api": false}\n'
        self.video_css = minified_css((SOURCES / "kb-video.css").read_text(encoding="utf-8"))
        video_js = (SOURCES / "kb-video.js").read_bytes()
        self.video_js = _hashed("kb-video", ".js", video_js)
        self.files[self.video_js] = video_js

    def tags(self, html: str, page_url: str) -> str:
        """The <head> tags a page with this `html` needs, relative to the page's URL."""
        def rel(uri: str) -> str:
            return get_relative_url(uri, page_url)

        tags = []
        video = VIDEO_MARK in html
        style = (COMPACT_TABS if self.compact_tabs and TABS_MARK in html else "") + (self.video_css if video else "")
        if style:
            tags.append(f"<style>{style}</style>")
        # The bundle before the player: the player reports through KbEvents.
        tags.append(f'<script defer src="{rel(self.script)}"></script>')
        if video:
            tags.append(f'<script defer src="{rel(self.video_js)}"></script>')
        return "\n".join(tags)

    def add_to(self, html: str, page_url: str) -> str:
        tags = self.tags(html, page_url)
        if not tags or "</head>" not in html:
            return html
        return html.replace("</head>", tags + "\n</head>", 1)
