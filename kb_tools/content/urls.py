"""Where MkDocs serves a Markdown page, from one place: the help center's links, language
switcher, video embeds and analytics all ask here, so they agree with `mkdocs build`."""

from __future__ import annotations

from mkdocs.structure.files import File


def page_url(src_path: str, use_directory_urls: bool = True) -> str:
    """The site-relative URL of the page built from `src_path` (relative to docs_dir, "/"
    separators), by MkDocs' own rule: "returns/policy.md" -> "returns/policy/" (or
    "returns/policy.html" with `use_directory_urls: false`); "index.md" and "README.md" are
    their folder's page ("returns/index.md" -> "returns/"); the home page is "". Non-ASCII
    names are percent-encoded, as in the pages' own links."""
    url = File(src_path, None, "", use_directory_urls).url
    return "" if url in (".", "./") else url

