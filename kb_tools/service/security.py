"""Security headers on everything `kb serve` answers.

Every response: `X-Content-Type-Options: nosniff` (a JSON answer or an uploaded caption is
never run as a script), `Referrer-Policy: strict-origin-when-cross-origin` (a site linked from
an article learns our host, not the page or the `?q=` of a search), `X-Frame-Options` and the
CSP's `frame-ancestors` (no other site frames the help center to trick a click).

A Content-Security-Policy per response: the site's pages get one computed from the page
itself (`page_policy`), allowing scripts from our own origin, the page's own inline scripts by
their SHA-256 (MkDocs Material writes a few small ones, different per folder depth) and the
hosts the page itself loads scripts from, and nothing else; everything that is not a page
(JSON, JavaScript, media) gets `default-src 'none'`, so a response opened as a document can do
nothing. Styles need no 'unsafe-inline' on our pages: the theme writes no inline styles, the
widget uses a constructed style sheet in its shadow root, and the few bytes of `<style>` kb
puts in a page's head (rules that must apply before the first paint) are allowed by their
SHA-256 like inline scripts; only a page whose Markdown has `style=` attributes gets
'unsafe-inline' for styles (never for scripts), which a hash in the same list would disable.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

FRAME_ANCESTORS = "'self'"
NOT_A_PAGE = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"SAMEORIGIN"),
]

# One pass over the page's tags: `<name ...>` without another `<` or `>` inside, so each
# character is looked at once (a stray `<` ends one attempt where the next begins).
_TAG = re.compile(rb"<([a-zA-Z][a-zA-Z0-9-]*)([^<>]*)>")
_SCRIPT_END = re.compile(rb"</script\s*>", re.I)
_STYLE_END = re.compile(rb"</style\s*>", re.I)
_SRC = re.compile(rb"""\ssrc\s*=\s*["']?([^"'\s>]*)""", re.I)
_HREF = re.compile(rb"""\shref\s*=\s*["']?([^"'\s>]*)""", re.I)
_STYLESHEET = re.compile(rb"""\srel\s*=\s*["']?stylesheet""", re.I)
# The site's own addresses as its <head> names them (site_url): Material's language selector
# fetches sitemap.xml under each alternate.
_OWN_ADDRESS = re.compile(rb"""\srel\s*=\s*["']?(?:canonical|alternate)["'\s>]""", re.I)
_STYLE_ATTR = re.compile(rb"""\sstyle\s*=""", re.I)
# A data block is not run (Material's __config is JSON), so it needs no hash.
_DATA_BLOCK = re.compile(rb"""\stype\s*=\s*["']?application/(?:ld\+)?json""", re.I)
_KB_API = re.compile(rb"""\sname\s*=\s*["']?kb-api["'\s]""", re.I)
_CONTENT = re.compile(rb"""\scontent\s*=\s*["']?([^"'\s>]*)""", re.I)


@dataclass
class _Page:
    """What a page runs and loads, as its CSP needs it."""

    inline_scripts: list[bytes] = field(default_factory=list)
    hosts: dict[str, set[str]] = field(default_factory=lambda: {"script": set(), "style": set(), "frame": set(), "connect": set()})
    inline_styles: list[bytes] = field(default_factory=list)  # the text of each <style> element
    style_attributes: bool = False
    api: str = ""


def _origin(url: bytes) -> str | None:
    """`https://cdn.example` for an absolute http(s) URL, else None (the site's own files)."""
    parts = urlsplit(url.decode("ascii", "replace"))
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return f"{parts.scheme.lower()}://{parts.netloc.lower()}"
    return None


def _attr_origin(pattern: re.Pattern[bytes], attrs: bytes) -> str | None:
    """The origin of the absolute URL in the attribute ``pattern`` finds, else None."""
    value = pattern.search(attrs)
    return _origin(value.group(1)) if value else None


def _read(html: bytes) -> _Page:
    page = _Page()
    pos = 0
    while (tag := _TAG.search(html, pos)) is not None:
        name, attrs = tag.group(1).lower(), tag.group(2)
        pos = tag.end()
        if _STYLE_ATTR.search(attrs):
            page.style_attributes = True
        if name == b"script":
            src = _SRC.search(attrs)
            end = _SCRIPT_END.search(html, pos)
            if src:
                if (origin := _origin(src.group(1))) is not None:
                    page.hosts["script"].add(origin)
            elif end is not None and not _DATA_BLOCK.search(attrs):
                page.inline_scripts.append(html[pos:end.start()])
            if end is None:  # never closed: nothing after it is markup
                break
            pos = end.end()
        elif name == b"style":
            end = _STYLE_END.search(html, pos)
            if end is None:  # never closed: the rest of the page is its text
                page.inline_styles.append(html[pos:])
                break
            page.inline_styles.append(html[pos:end.start()])
            pos = end.end()
        elif name == b"link" and _STYLESHEET.search(attrs):
            if (origin := _attr_origin(_HREF, attrs)) is not None:
                page.hosts["style"].add(origin)
        elif name == b"link" and _OWN_ADDRESS.search(attrs):
            if (origin := _attr_origin(_HREF, attrs)) is not None:
                page.hosts["connect"].add(origin)
        elif name == b"iframe":
            if (origin := _attr_origin(_SRC, attrs)) is not None:
                page.hosts["frame"].add(origin)
        elif name == b"meta" and _KB_API.search(attrs):
            if (origin := _attr_origin(_CONTENT, attrs)) is not None:
                page.api = origin
    return page


def _hashes(texts: list[bytes]) -> list[str]:
    return sorted({"'sha256-" + base64.b64encode(hashlib.sha256(text).digest()).decode() + "'" for text in texts})


def page_policy(html: bytes) -> str:
    """The CSP of one HTML page of the site (linear in the page: each pattern has one way to
    match). Scripts: the site's own, the page's inline ones by hash, and the hosts the page
    itself loads scripts from; never 'unsafe-inline' or 'unsafe-eval'. Images, media and fonts
    may come from any https host (a writer's CDN image cannot run code); a page's <style>
    elements by hash, and any inline style only on a page that has `style=` attributes."""
    page = _read(html)
    hashes = _hashes(page.inline_scripts)
    # site search and events go to the kb serve named by the plugin's api_url; the site's own
    # address (site_url, in its canonical and alternate links) may differ from the one it is
    # served at (a preview, 127.0.0.1 for localhost), and Material reads sitemaps there
    connect = ["'self'", *([page.api] if page.api else []), *sorted(page.hosts["connect"] - {page.api})]
    inline = ["'unsafe-inline'"] if page.style_attributes else _hashes(page.inline_styles)
    styles = ["'self'", *sorted(page.hosts["style"]), *inline]
    return "; ".join([
        "default-src 'self'",
        "script-src " + " ".join(["'self'", *sorted(page.hosts["script"]), *hashes]),
        "style-src " + " ".join(styles),
        "img-src 'self' data: https:",
        "font-src 'self' data: https:",
        "media-src 'self' https:",
        "connect-src " + " ".join(connect),
        "frame-src " + " ".join(["'self'", *sorted(page.hosts["frame"])]),
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        f"frame-ancestors {FRAME_ANCESTORS}",
    ])


class SecurityHeadersMiddleware:
    """Adds the common headers to every HTTP response, and `NOT_A_PAGE` as the CSP of any
    response that does not bring its own (the static site sets `page_policy` on its pages)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers += [(n, v) for n, v in COMMON if n not in names]
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", NOT_A_PAGE.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
