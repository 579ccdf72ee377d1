"""Heading anchors that keep Bengali, Gujarati and Hindi words whole.

Markdown's default slugify drops every non-ASCII character, and slugifiers built on Python's
`\\w` drop Indic vowel signs and the virama (they are combining marks, not letters), so
"ধাপ ১" became "#_5" or "#ধপ-১". Use in mkdocs.yml:

    markdown_extensions:
      - toc:
          slugify: !!python/name:kb_tools.slugs.slugify

A site that chooses no slugify gets :func:`slugify_unless_markdown_has_one` from the kb plugin:
Markdown's own anchors wherever Markdown makes one, so no link into an existing site changes.
"""

from __future__ import annotations

import unicodedata

KEEP_JOINERS = {"\u200c", "\u200d"}  # ZWNJ/ZWJ change how Indic words are written


def slugify(value: str, separator: str = "-") -> str:
    """Lower-case the heading, keep letters, combining marks and digits, and join the words
    with `separator`."""
    value = unicodedata.normalize("NFC", value).lower()
    words, current = [], []
    for ch in value:
        cat = unicodedata.category(ch)
        if ch in "'’":  # "Don't" -> "dont", as Markdown's own slugify does
            continue
        if cat[0] in "LMN" or ch in KEEP_JOINERS:
            current.append(ch)
        elif ch in "-_" and current:
            current.append(separator if ch == "-" else ch)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return separator.join(w.strip(separator) for w in words if w.strip(separator))


def slugify_unless_markdown_has_one(value: str, separator: str = "-") -> str:
    """Markdown's own anchor when it makes one ("Step 1: Pack it" -> "step-1-pack-it"), else
    :func:`slugify` ("ধাপ ১: প্যাক করুন", of which Markdown's keeps nothing and the toc
    extension would number "_1"). What the kb plugin gives a site that chooses no slugify."""
    from markdown.extensions.toc import slugify as markdowns

    return markdowns(value, separator) or slugify(value, separator)
