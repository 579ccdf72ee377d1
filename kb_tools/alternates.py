"""Language alternates the way search engines and Material's language selector read them.

- In <head>, `<link rel="alternate" hreflang>` only to pages that translate this one (the
  language selector may still lead to another language's home page, but that is no
  equivalent page), with absolute URLs built from `site_url` (relative ones fail the hreflang
  rules of search engines and Lighthouse).
- Material's selector fetches `sitemap.xml` under the URL of every alternate link to keep the
  shopper on the same page when switching language. kb writes that file beside each page that
  is an alternate: a sitemap of the pages in that folder with their translations
  (`xhtml:link`, the form search engines read), so the request finds a real sitemap, not a 404.
  The site's own `sitemap.xml` at the root stays MkDocs'.
"""

from __future__ import annotations

import posixpath
import re
from html import escape
from pathlib import Path

from mkdocs.utils import get_relative_url

# Material's base.html renders one of these per `extra.alternate` entry.
HEAD_LINK = re.compile(r'[ \t]*<link rel="alternate" href="[^"]*" hreflang="[^"]*">\n?')


def absolute(site_url: str | None, url: str) -> str:
    """A site-relative URL ("bn/returns/x/") made absolute with `site_url`, or root-relative
    when the site does not say where it lives."""
    return (site_url.rstrip("/") + "/" if site_url else "/") + url.lstrip("/")


def head_links(translations: dict[str, str], site_url: str | None, page_url: str = "") -> str:
    """`<link rel="alternate">` tags for {lang: site-relative URL} (the page itself included):
    absolute with `site_url`; without one, relative to the page at `page_url`, as Material
    writes them (the site may live under any path)."""
    if len(translations) < 2:
        return ""

    def href(url: str) -> str:
        return absolute(site_url, url) if site_url else get_relative_url(url or ".", page_url)

    return "".join(
        f'<link rel="alternate" href="{escape(href(url))}" hreflang="{escape(lang)}">\n'
        for lang, url in translations.items()
    )


def rewrite_head(html: str, translations: dict[str, str], site_url: str | None, page_url: str = "") -> str:
    """Replace Material's alternate links (from `extra.alternate`) with `head_links`."""
    head, sep, body = html.partition("</head>")
    if not sep:
        return html
    links = head_links(translations, site_url, page_url)
    found = HEAD_LINK.search(head)
    if found is None:
        return html if not links else head + links + sep + body
    head = head[: found.start()] + links + HEAD_LINK.sub("", head[found.start():])
    return head + sep + body


def sitemap_folder(url: str) -> str:
    """Where Material looks for the sitemap of an alternate at `url` (its URL's folder)."""
    return url if url.endswith("/") or not url else posixpath.dirname(url) + "/"


def write_sitemaps(site_dir: Path, groups: list[dict[str, str]], site_url: str | None) -> list[Path]:
    """For every translated page, a `sitemap.xml` in the folder Material fetches it from,
    listing the folder's pages with their alternates. `groups`: one {lang: url} per page and
    its translations. Returns the files written."""
    by_folder: dict[str, list[dict[str, str]]] = {}
    for group in groups:
        if len(group) < 2:
            continue
        for url in group.values():
            by_folder.setdefault(sitemap_folder(url), []).append({"loc": url, **group})
    written = []
    for folder, entries in sorted(by_folder.items()):
        if folder in ("", "/"):
            continue  # MkDocs' own sitemap.xml is there
        lines = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:xhtml="http://www.w3.org/1999/xhtml">',
        ]
        seen = set()
        for entry in entries:
            loc = entry.pop("loc")
            if loc in seen:
                continue
            seen.add(loc)
            lines.append(f"  <url><loc>{escape(absolute(site_url, loc))}</loc>")
            lines += [
                f'    <xhtml:link rel="alternate" hreflang="{escape(lang)}" href="{escape(absolute(site_url, url))}"/>'
                for lang, url in entry.items()
            ]
            lines.append("  </url>")
        lines.append("</urlset>")
        path = site_dir / folder / "sitemap.xml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        written.append(path)
    return written
