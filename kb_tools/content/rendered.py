"""The last guard of a build: the rendered HTML of a page must not show template code or front
matter as text. kb's source checks catch every mistake a writer makes in a file; this catches
what reaches a page by another way (an include, another plugin, a theme override)."""

from __future__ import annotations

import re

# Text a shopper never reads as such: code, scripts, styles, form fields and comments.
HIDDEN = re.compile(
    r"<(code|pre|script|style|textarea|kbd|samp|template)\b[^>]*>.*?</\1\s*>|<!--.*?-->", re.S | re.I
)
TEMPLATE_CODE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{\{|\{%|%\}|\}\}", re.S)
FRONT_MATTER = re.compile(r"^\s*<hr\s*/?>\s*<(?:p|h2)\b[^>]*>\s*[A-Za-z_][\w-]*\s*:\s", re.I)


TAG = re.compile(r"<[a-zA-Z!/][^>]*>")
SHOWN_ATTR = re.compile(r"""\s(?:alt|title|placeholder|aria-label)\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)


def visible_text(html: str) -> str:
    """The text of a page a shopper can read: its text between tags, and the attributes a
    browser shows (alt, title, placeholder, aria-label). Other attributes hold data for
    scripts (e.g. the feedback box's JSON settings), not text."""
    html = HIDDEN.sub(" ", html)
    shown = [a or b for tag in TAG.findall(html) for a, b in SHOWN_ATTR.findall(tag)]
    return " ".join([TAG.sub(" ", html), *shown])


def template_code(html: str) -> list[str]:
    """Each piece of template code the page shows as text, as it appears (whitespace folded,
    at most 80 characters)."""
    visible = visible_text(html)
    found = []
    for m in TEMPLATE_CODE.finditer(visible):
        text = re.sub(r"\s+", " ", m.group(0))
        found.append(text if len(text) <= 80 else text[:77] + "...")
    return list(dict.fromkeys(found))


def shows_front_matter(content: str) -> bool:
    """True when a page's content starts with a front-matter block rendered as text
    (a rule, then 'key: value' lines as a paragraph or, with a closing '---', a heading)."""
    return bool(FRONT_MATTER.match(content))
