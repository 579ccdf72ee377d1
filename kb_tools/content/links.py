"""The links of a Markdown page as MkDocs reads them: what is inside code (fenced blocks,
indented blocks, inline code spans) or an HTML comment is text, not a link.

MkDocs checks the links of the rendered HTML; `kb check` runs without rendering, so it blanks
out what Markdown would not turn into a link and keeps every line where it was, so problems
still point at the right line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

LINK_RE = re.compile(r"(?<!!)\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
REF_DEF_RE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?")
FENCE_RE = re.compile(r"^(\s*)(`{3,}|~{3,})")
LIST_RE = re.compile(r"^\s{0,3}([-*+]|\d+[.)])\s")
CODE_SPAN_RE = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)")


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group(0))


def prose_lines(body: str) -> Iterator[tuple[int, str]]:
    """(index, line) of every line of `body` with code and comments blanked out."""
    fence: str | None = None
    in_comment = False
    in_list = False
    previous_blank = True
    for index, line in enumerate(body.split("\n")):
        if fence is not None:
            stripped = line.strip()
            if stripped.startswith(fence[0] * len(fence)) and not stripped.strip(fence[0]):
                fence = None
            continue
        opening = FENCE_RE.match(line)
        if opening:
            fence = opening.group(2)
            previous_blank = False
            continue
        if not line.strip():
            previous_blank = True
            yield index, line
            continue
        indented = line.startswith(("    ", "\t"))
        if indented and previous_blank and not in_list:
            continue  # an indented code block
        if not indented:
            in_list = bool(LIST_RE.match(line))
        previous_blank = False
        line, in_comment = _strip_comments(line, in_comment)
        yield index, CODE_SPAN_RE.sub(_blank, line)


def _strip_comments(line: str, in_comment: bool) -> tuple[str, bool]:
    out, rest = [], line
    while rest:
        if in_comment:
            end = rest.find("-->")
            if end < 0:
                return "".join(out), True
            out.append(" " * (end + 3))
            rest, in_comment = rest[end + 3:], False
        else:
            start = rest.find("<!--")
            if start < 0:
                out.append(rest)
                break
            out.append(rest[:start] + "    ")
            rest, in_comment = rest[start + 4:], True
    return "".join(out), in_comment


def markdown_links(body: str, first_line: int = 1) -> Iterator[tuple[int, str]]:
    """(line number, target) of every link in the Markdown `body` whose first line is
    `first_line` of its file: inline links and reference definitions, not images."""
    for index, line in prose_lines(body):
        definition = REF_DEF_RE.match(line)
        if definition:
            yield first_line + index, definition.group(1)
            continue
        for match in LINK_RE.finditer(line):
            yield first_line + index, match.group(1)
