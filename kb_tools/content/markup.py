"""Reading an article's Markdown the way Python-Markdown will render it, for the checks that
must not look inside code: the text a shopper will see line by line (code spans, fenced and
indented code and HTML comments blanked out), the placeholders in it, its links, images and
media, and the anchors its headings get.

Everything here works on the source, so `kb check` and the build report the same problems on
the same lines without rendering anything.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})")
LIST_ITEM = re.compile(r"^[ \t]{0,3}(?:[-*+]|\d{1,9}[.)])[ \t]+\S")
CODE_SPAN = re.compile(r"(`+)(?!`)(.+?)(?<!`)\1(?!`)")
COMMENT = re.compile(r"<!--.*?-->", re.S)


def visible_lines(body: str, first_line: int = 1, *, code_spans: bool = False) -> Iterator[tuple[int, str]]:
    """(line number, text) of each line that is not code, with code spans (unless
    `code_spans`) and HTML comments replaced by spaces, so columns stay where they were.
    Fenced blocks (``` or ~~~, also indented inside lists), indented code blocks and comments
    yield nothing."""
    fence: str | None = None
    in_comment = False
    in_list = False
    previous_blank = True
    for number, line in enumerate(body.split("\n"), start=first_line):
        m = FENCE.match(line)
        if fence is not None:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not line.strip(" \t`~"):
                fence = None
            continue
        if m:
            fence = m.group(1)
            continue
        if in_comment:
            end = line.find("-->")
            if end < 0:
                continue
            line = " " * (end + 3) + line[end + 3 :]
            in_comment = False
        stripped = line.strip()
        if not stripped:
            previous_blank = True
            continue
        indented = line.startswith(("    ", "\t"))
        if LIST_ITEM.match(line):
            in_list = True
        elif not indented:
            in_list = False
        if indented and previous_blank and not in_list:
            continue  # an indented code block
        previous_blank = False
        line = COMMENT.sub(lambda m: " " * len(m.group(0)), line)
        start = line.find("<!--")
        if start >= 0:
            in_comment = True
            line = line[:start]
        if not code_spans:
            line = CODE_SPAN.sub(lambda m: " " * len(m.group(0)), line)
            line = re.sub(r"<code\b[^>]*>.*?</code>", lambda m: " " * len(m.group(0)), line, flags=re.I)
        yield number, line


# -- placeholders ---------------------------------------------------------------------------------

POLICY_REF = re.compile(r"^\s*policy\.([A-Za-z0-9_.\-]+?)\s*(?:\|\s*([A-Za-z_]+)\s*)?$")
VIDEO_REF = re.compile(r"""^\s*video\(\s*(?:"([^"]*)"|'([^']*)')\s*\)\s*$""")
WELL_FORMED = re.compile(r"\{\{([^{}]*)\}\}")
TAG = re.compile(r"\{%[^{}]*?(?:%\}|$)")
NOT_CLOSED = re.compile(r"\{\{[^{}]*?(?:\}(?!\})|$)")
NOT_OPENED = re.compile(r"(?<!\{)\{(?!\{)[^{}]*\}\}|[A-Za-z0-9_.|\-\"'()]*[ \t]*\}\}")
STRAY_TAG_END = re.compile(r"\S*[ \t]*%\}")
SINGLE = re.compile(r"(?<!\{)\{(?!\{)\s*(?:policy\.[A-Za-z0-9_.\-]+|video\([^)]*\))[^{}]*\}(?!\})")


@dataclass(frozen=True)
class Placeholder:
    """Something between braces in the visible text of a line."""

    column: int
    text: str  # as written, e.g. "{{ policy.returns.window_days }}"
    kind: str  # "policy" | "video" | "unknown" | "tag" | "not-closed" | "not-opened" | "single"
    key: str = ""  # the policy key or the video id
    filter: str | None = None


def placeholders(line: str) -> list[Placeholder]:
    """Every placeholder, well-formed or not, in one visible line, in column order."""
    if "{" not in line and "}" not in line:
        return []  # every pattern below needs a brace; most lines have none
    found: list[Placeholder] = []
    rest = line
    for m in WELL_FORMED.finditer(line):
        inner = m.group(1)
        policy = POLICY_REF.match(inner)
        video = VIDEO_REF.match(inner)
        if policy:
            found.append(Placeholder(m.start(), m.group(0), "policy", policy.group(1), policy.group(2)))
        elif video:
            vid = video.group(1) if video.group(1) is not None else video.group(2)
            found.append(Placeholder(m.start(), m.group(0), "video", vid))
        else:
            found.append(Placeholder(m.start(), m.group(0), "unknown"))
        rest = rest[: m.start()] + " " * len(m.group(0)) + rest[m.end() :]
    for m in TAG.finditer(rest):
        found.append(Placeholder(m.start(), m.group(0).rstrip(), "tag"))
        rest = rest[: m.start()] + " " * len(m.group(0)) + rest[m.end() :]
    for kind, pattern in (("not-closed", NOT_CLOSED), ("single", SINGLE), ("not-opened", NOT_OPENED),
                          ("tag", STRAY_TAG_END)):
        for m in pattern.finditer(rest):
            found.append(Placeholder(m.start(), m.group(0).strip(), kind))
            rest = rest[: m.start()] + " " * len(m.group(0)) + rest[m.end() :]
    return sorted(found, key=lambda p: p.column)


def corrected(fragment: str) -> str:
    """What a malformed placeholder was meant to be: '{ policy.x }}' -> '{{ policy.x }}'."""
    policy = re.search(r"policy\.([A-Za-z0-9_.\-]*[A-Za-z0-9_])(?:\s*\|\s*([A-Za-z_]+))?", fragment)
    if policy:
        filt = f" | {policy.group(2)}" if policy.group(2) else ""
        return f"{{{{ policy.{policy.group(1)}{filt} }}}}"
    video = re.search(r"""video\(\s*["']([^"']*)["']\s*\)""", fragment)
    if video:
        return f'{{{{ video("{video.group(1)}") }}}}'
    inner = fragment.strip("{} ")
    return f"{{{{ {inner} }}}}"


# -- links, images and media ----------------------------------------------------------------------

INLINE_LINK = re.compile(r"(!?)\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)")
REFERENCE = re.compile(r"^[ ]{0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
HTML_ATTR = re.compile(r"<(img|video|audio|source|track|a|iframe|embed)\b[^>]*?\s(src|href|poster)\s*=\s*(\"[^\"]*\"|'[^']*')", re.I)


@dataclass(frozen=True)
class Target:
    """A link, image or media source in the visible text."""

    column: int
    kind: str  # "link" | "image" | "video" | "audio" | "media"
    target: str  # as written


def targets(line: str) -> list[Target]:
    if "[" not in line and "<" not in line:
        return []  # every pattern below needs a bracket or a tag; most lines have neither
    found = []
    for m in INLINE_LINK.finditer(line):
        found.append(Target(m.start(), "image" if m.group(1) else "link", m.group(2).strip("<>")))
    m = REFERENCE.match(line)
    if m:
        found.append(Target(m.start(1), "link", m.group(1).strip("<>")))
    for m in HTML_ATTR.finditer(line):
        tag, attr = m.group(1).lower(), m.group(2).lower()
        kind = {"img": "image", "video": "video", "audio": "audio", "a": "link"}.get(tag, "media")
        if attr == "poster":
            kind = "image"
        found.append(Target(m.start(3), kind, html.unescape(m.group(3)[1:-1])))
    return sorted(found, key=lambda t: t.column)


def is_local(target: str) -> bool:
    """A link into the docs folder (not a URL, an e-mail, an absolute path or a data: URI)."""
    return bool(target) and not re.match(r"^([a-zA-Z][a-zA-Z0-9+.\-]*:|//|/)", target)


# -- anchors ----------------------------------------------------------------------------------------

ATX = re.compile(r"^[ ]{0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
SETEXT = re.compile(r"^[ ]{0,3}(=+|-+)[ \t]*$")
ATTR_ID = re.compile(r"\{:?[^{}]*?#([\w\-:.]+)[^{}]*\}")
HEADING_ATTRS = re.compile(r"[ \t]*\{:?[^{}]*\}[ \t]*$")
HTML_ID = re.compile(r"""<[a-zA-Z][^>]*?\s(?:id|name)\s*=\s*["']([^"']+)["']""")


def _heading_text(text: str) -> str:
    """The text a heading shows (what the toc extension slugifies)."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links and images -> their text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = re.sub(r"(\*{1,3}|_{1,3}|`+|~~)(?=\S)(.+?)(?<=\S)\1", r"\2", text)  # emphasis, code
    return html.unescape(text).strip()


def anchors(body: str, slugify: Callable[[str, str], str], separator: str = "-") -> list[str]:
    """The anchors a page will have, in document order: each heading's id (its `{#id}` or the
    toc extension's slug, made unique with _1, _2 as toc does) and any other `{#id}` or HTML
    `id`/`name`."""
    from markdown.extensions.toc import unique

    ids: list[str] = []
    seen: set[str] = set()

    def add(anchor: str) -> None:
        if anchor and anchor not in seen:
            seen.add(anchor)
            ids.append(anchor)

    lines = list(visible_lines(body, code_spans=True))  # `code` in a heading is part of its text
    skip = -1
    for i, (number, line) in enumerate(lines):
        if i == skip:
            continue  # the underline of a setext heading
        heading = None
        m = ATX.match(line)
        if m:
            heading = m.group(2)
        elif i + 1 < len(lines) and lines[i + 1][0] == number + 1 and SETEXT.match(lines[i + 1][1]) \
                and not LIST_ITEM.match(line) and not line.startswith((" " * 4, "\t")):
            heading, skip = line.strip(), i + 1
        if heading is not None:
            custom = ATTR_ID.search(heading) if HEADING_ATTRS.search(heading) else None
            text = HEADING_ATTRS.sub("", heading)
            if custom:  # toc keeps an id given with attr_list as it is
                add(custom.group(1))
            else:
                ids.append(unique(slugify(_heading_text(text), separator), seen))
            line = text
        for m in ATTR_ID.finditer(line):
            add(m.group(1))
        for m in HTML_ID.finditer(line):
            add(m.group(1))
    return ids
