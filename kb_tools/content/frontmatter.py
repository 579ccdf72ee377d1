"""Reading one Markdown article: bytes -> text -> front matter -> a validated `Article`.

Every problem a writer can cause is reported as a `Problem` with the file and line, and a hint
that says what to do. Nothing here raises on bad input: a broken article yields problems and
(where possible) a partial `Article`, so one bad file never hides the problems of the others.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from kb_tools import safe_yaml
from kb_tools.content.markup import visible_lines
from kb_tools.content.schema import KB_KEYS, KNOWN_KEYS
from kb_tools.problems import Problem, error, shown_path

#: Front-matter keys kb reads (the schema decides what other keys may appear).
ARTICLE_KEYS = KB_KEYS
ATX_H1 = re.compile(r"^ {0,3}#(?!#)\s+(.*?)(?:\s+#+)?\s*$")
SETEXT_H1 = re.compile(r"^ {0,3}=+\s*$")
LIST_KEYS = ("tags", "products", "videos")
TEXT_KEYS = ("title", "summary", "category", "lang", "contact_topic")


@dataclass
class Article:
    """One Markdown page of the help center with its validated front matter."""

    src_path: str  # relative to docs_dir, with "/" separators: "returns/return-policy.md"
    rel_path: str  # relative to the project root, as shown to writers: "docs/returns/..."
    title: str = ""
    summary: str = ""
    category: str = ""
    tags: list[str] = field(default_factory=list)
    products: list[str] = field(default_factory=list)
    lang: str = ""
    review_by: dt.date | None = None
    videos: list[str] = field(default_factory=list)
    contact_topic: str = ""
    body: str = ""
    body_line: int = 1  # line number of the body's first line in the file
    key_lines: dict[str, int] = field(default_factory=dict)
    title_from: str = "front matter"  # or "heading" (the first # Heading), or "file name"

    @property
    def slug(self) -> str:
        return Path(self.src_path).stem

    @property
    def is_index(self) -> bool:
        return Path(self.src_path).name in ("index.md", "README.md")


def did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str:
    """A hint like " (did you mean 'category'?)", or "" when nothing is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f": did you mean '{close[0]}'?" if close else ""


def decode_utf8(data: bytes, rel_path: str) -> tuple[str | None, list[Problem]]:
    """Decode a file as UTF-8 (a BOM is allowed), or explain where it is not UTF-8."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = data[exc.start : exc.start + 1].hex().upper()
        return None, [
            error(
                rel_path,
                line,
                f"file is not valid UTF-8 (byte 0x{byte}): save it as UTF-8 in your editor",
            )
        ]
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n")), []


def split_front_matter(text: str, rel_path: str) -> tuple[str | None, str, int, list[Problem]]:
    """Return (front matter text or None, body, line of the body's start, problems)."""
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines) if line.strip()), 0)
    if start and lines[start].rstrip() == "---" and _looks_like_front_matter(lines[start + 1 :]):
        # MkDocs reads front matter only on the first line: below a blank line it is text.
        fm_text, body, body_line, problems = split_front_matter("\n".join(lines[start:]), rel_path)
        return fm_text, body, body_line + start, [
            *problems,
            error(rel_path, start + 1, "front matter must start on the first line, or it is shown as "
                                       "text: remove the blank lines above '---'"),
        ]  # fmt: skip
    if not lines or lines[0].rstrip() != "---":
        return None, text, 1, []
    for i in range(1, len(lines)):
        if lines[i].rstrip() in ("---", "..."):
            return "\n".join(lines[1:i]), "\n".join(lines[i + 1 :]), i + 2, []
    return (
        None,
        text,
        1,
        [
            error(
                rel_path,
                1,
                "front matter starts with '---' but never ends: add a line '---' after the last key",
            )
        ],
    )


def _looks_like_front_matter(lines: list[str]) -> bool:
    """'key: value' lines closed by '---' (not a rule above a paragraph or a table)."""
    keys = 0
    for line in lines:
        if line.rstrip() in ("---", "..."):
            return keys > 0
        if re.match(r"^[A-Za-z_][\w-]*\s*:(\s|$)", line):
            keys += 1
        elif line.strip() and not line.startswith((" ", "\t", "-")):
            return False
    return False


def parse_front_matter(
    fm_text: str, rel_path: str
) -> tuple[dict[str, Any] | None, dict[str, int], list[Problem]]:
    """Parse front matter YAML, returning (mapping, line of each key, problems)."""
    problems: list[Problem] = []
    for n, line in enumerate(fm_text.split("\n"), start=2):
        if "\t" in line:
            problems.append(
                error(
                    rel_path,
                    n,
                    "tab character in front matter: YAML allows only spaces here; "
                    "replace the tab with spaces",
                )
            )
    if problems:
        return None, {}, problems
    try:
        node, data = _load_yaml(fm_text)
    except safe_yaml.YamlLimitError as exc:
        line = (exc.problem_mark.line + 2) if exc.problem_mark else 2
        return None, {}, [error(rel_path, line, f"front matter {exc.problem}")]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 2) if mark else 1
        what = exc.problem or "syntax error"
        if exc.context:
            what = f"{exc.context}, {what}"
        return (
            None,
            {},
            [
                error(
                    rel_path,
                    line,
                    f"front matter is not valid YAML ({what}): fix the YAML between the '---' lines",
                )
            ],
        )
    if data is None:
        return {}, {}, []
    if not isinstance(data, dict):
        return (
            None,
            {},
            [error(rel_path, 2, "front matter must be a list of 'key: value' lines")],
        )
    key_lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            key_lines[str(key_node.value)] = key_node.start_mark.line + 2
    return data, key_lines, []


def without_unsafe_front_matter(text: str) -> str | None:
    """`text` without its front matter when that front matter's YAML aliases expand past the
    limits of `safe_yaml` (a "billion laughs" title), else None. For readers that parse front
    matter with plain PyYAML, as MkDocs does: they would build the whole expansion."""
    if "*" not in text[:64_000]:
        return None
    fm_text, body, _, _ = split_front_matter(text.lstrip("\ufeff").replace("\r\n", "\n"), "")
    if fm_text is None or "*" not in fm_text:
        return None  # no alias: nothing to expand (a '*' in the body is Markdown's emphasis)
    try:
        safe_yaml.compose(fm_text)
    except safe_yaml.YamlLimitError:
        return body
    except yaml.YAMLError:
        return None
    return None


def _load_yaml(text: str) -> tuple[yaml.Node | None, Any]:
    """The node tree (for the keys' lines) and the data, with safe_yaml's limits. Every article
    is read on every build, so libyaml composes the nodes when the text cannot hold what those
    limits guard against (no alias, shallow); on a syntax error the pure-Python reader words
    it, as writers know it."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None and "*" not in text and _shallow(text):
        try:
            node = yaml.compose(text, Loader=fast)
            return node, safe_yaml.construct(node)
        except yaml.YAMLError:
            pass
    node = safe_yaml.compose(text)
    return node, safe_yaml.construct(node)


def _shallow(text: str) -> bool:
    """Nesting cannot pass safe_yaml's depth limit: fewer lines than the limit, and flow
    brackets nested less deeply."""
    if text.count("\n") >= safe_yaml.MAX_DEPTH:
        return False
    depth = deepest = 0
    for ch in text:
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest < safe_yaml.MAX_DEPTH


def front_matter_of(text: str) -> dict[str, Any]:
    """The front matter of a Markdown text, for readers that only want a title or a topic:
    {} when there is none or it is broken (`kb check` says why)."""
    text = unicodedata.normalize("NFC", text.lstrip("\ufeff").replace("\r\n", "\n"))
    fm_text, _, _, _ = split_front_matter(text, "")
    data = parse_front_matter(fm_text, "")[0] if fm_text is not None else None
    return data or {}


def load_article(
    path: Path, docs_dir: Path, project_dir: Path, schema: str = "mkdocs"
) -> tuple[Article | None, list[Problem]]:
    """Read and validate one article's file and front matter (site-wide checks are elsewhere).
    `schema` is `mkdocs`, `help-center` or `strict` (kb_tools.content.schema)."""
    src_path = path.relative_to(docs_dir).as_posix()
    rel_path = shown_path(path, project_dir)
    text, problems = decode_utf8(path.read_bytes(), rel_path)
    if text is None:
        return None, problems
    fm_text, body, body_line, problems = split_front_matter(text, rel_path)
    if fm_text is None and problems:
        return None, problems
    article = Article(src_path=src_path, rel_path=rel_path, body=body, body_line=body_line)
    if fm_text is None:
        data, key_lines = _multimarkdown_meta(article)
    else:
        data, key_lines, fm_problems = parse_front_matter(fm_text, rel_path)
        shift = body_line - len(fm_text.split("\n")) - 3  # front matter below blank lines: its lines move
        if shift:
            key_lines = {key: line + shift for key, line in key_lines.items()}
            fm_problems = [replace(p, line=p.line + shift) for p in fm_problems]
        problems.extend(fm_problems)
        if data is None:
            return None, problems
    article.key_lines = key_lines
    problems.extend(_fill_article(article, data, key_lines, schema))
    return article, problems


def _multimarkdown_meta(article: Article) -> tuple[dict[str, Any], dict[str, int]]:
    """MkDocs also reads "key: value" lines at the very top of a page without '---' as its
    meta-data (MultiMarkdown style); take them the same way, so the title matches."""
    from mkdocs.utils.meta import get_data

    body, data = get_data(article.body)
    if not data:
        return {}, {}
    skipped = article.body[: len(article.body) - len(body)]
    key_lines = {}
    for n, line in enumerate(skipped.split("\n"), start=article.body_line):
        key = line.split(":", 1)[0].strip().lower()
        if key in data and key not in key_lines:
            key_lines[key] = n
    article.body_line += skipped.count("\n")
    article.body = body
    return data, key_lines


def first_heading(body: str) -> str:
    """The page's title when it starts with a level-1 heading ("# Title", or "Title" over
    "==="), as MkDocs reads it: only a heading that opens the page counts."""
    lines = [line for _, line in visible_lines(body, code_spans=True)]
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        return ""
    atx = ATX_H1.match(lines[0])
    if atx:
        return atx.group(1).strip()
    if len(lines) > 1 and SETEXT_H1.match(lines[1]):
        return lines[0].strip()
    return ""


def title_from_file_name(src_path: str) -> str:
    """MkDocs' title for a page with neither a title nor a heading (mkdocs.structure.pages)."""
    parts = src_path.split("/")
    stem = parts[-1].rsplit(".", 1)[0]
    if stem in ("index", "README"):
        if len(parts) == 1:
            return "Home"
        stem = parts[-2]
    title = stem.replace("-", " ").replace("_", " ")
    return title.capitalize() if title.lower() == title else title


def _fill_article(
    article: Article, data: dict[str, Any], key_lines: dict[str, int], schema: str = "mkdocs"
) -> list[Problem]:
    problems: list[Problem] = []
    rel = article.rel_path
    for key, value in data.items():
        line = key_lines.get(str(key), 2)
        key = str(key)
        if key not in ARTICLE_KEYS:
            if key in KNOWN_KEYS or schema == "mkdocs":
                continue  # the theme's or another plugin's key
            hint = did_you_mean(key, KNOWN_KEYS)
            if schema == "strict" or hint:
                hint = hint or (": allowed keys are kb's, MkDocs' and Material's "
                                "(plugins > kb > schema in mkdocs.yml decides)")
                problems.append(error(rel, line, f"unknown front-matter key '{key}'{hint}"))
            continue
        if key in TEXT_KEYS:
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                problems.append(error(rel, line, f"'{key}' must be text, not {_kind(value)}"))
                continue
            setattr(article, key, str(value).strip())
        elif key in LIST_KEYS:
            items = [value] if isinstance(value, str) else value
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                problems.append(
                    error(rel, line, f"'{key}' must be a list of words, like: {key}: [a, b]")
                )
                continue
            setattr(article, key, [i.strip() for i in items if i.strip()])
        elif key == "review_by":
            if isinstance(value, dt.datetime):
                value = value.date()
            if not isinstance(value, dt.date):
                problems.append(
                    error(rel, line, f"'review_by' must be a date like 2027-03-31, not '{value}'")
                )
                continue
            article.review_by = value
    if not article.title:
        article.title = first_heading(article.body)
        article.title_from = "heading"
        if not article.title:
            article.title, article.title_from = title_from_file_name(article.src_path), "file name"
            if schema != "mkdocs":
                problems.append(error(
                    rel, key_lines.get("title", 1),
                    "missing title: add 'title: ...' to the front matter or start the page with '# Title'",
                ))
    return problems


def _kind(value: Any) -> str:
    return {list: "a list", dict: "a mapping", bool: "true/false"}.get(type(value), type(value).__name__)
