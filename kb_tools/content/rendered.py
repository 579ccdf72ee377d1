"""The last guard of a build: the rendered HTML of a page must not show template code or front
matter as text. kb's source checks catch every mistake a writer makes in a file; this catches
what reaches a page by another way (an include, another plugin, a theme override)."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

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


class TemplateCodeMemo:
    """`template_code` of each rendered page, remembered by the page's digest across builds
    (in `path`, a JSON file in the project's cache): a rebuild scans only the pages whose HTML
    changed. The answer for a given HTML never changes while this module's code does not, so
    the file is keyed by a digest of this module's source too. Each save keeps only the pages
    of the last build, so it does not grow."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._code = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
        self._known: dict[str, list[str]] = {}
        self._seen: dict[str, list[str]] = {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and data.get("code") == self._code and isinstance(data.get("pages"), dict):
                self._known = data["pages"]
        except (OSError, ValueError):
            pass

    def template_code(self, html: str) -> list[str]:
        key = hashlib.blake2b(html.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
        found = self._seen.get(key)
        if found is None:
            found = self._known.get(key)
            if not isinstance(found, list):
                found = template_code(html)
            self._seen[key] = found
        return list(found)

    def save(self) -> None:
        """Keep what this build saw for the next one (and start a new build's record)."""
        if self._seen and self._seen != self._known:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
                tmp.write_text(json.dumps({"code": self._code, "pages": self._seen}), encoding="utf-8")
                os.replace(tmp, self.path)
            except OSError:
                pass  # only a cache: the next build scans every page again
        self._known, self._seen = self._seen or self._known, {}
