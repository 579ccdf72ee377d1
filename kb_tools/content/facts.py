"""Policy facts: the numbers that policies repeat, kept in one YAML file.

Markdown in every language says ``{{ policy.returns.window_days }}``; the build writes the
value. ``{{ policy.returns.window_days | digits }}`` writes it in the page language's digits.
Changing a number in ``policy.yml`` changes every page that mentions it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kb_tools import safe_yaml
from kb_tools.content.frontmatter import decode_utf8, did_you_mean
from kb_tools.content.languages import native_digits
from kb_tools.content.markup import placeholders, visible_lines
from kb_tools.problems import Problem, error

FILTERS = ("digits",)


@dataclass
class PolicyFacts:
    """Flattened policy facts: {"returns.window_days": 14, ...}."""

    path: str = ""  # as shown to writers, e.g. "policy.yml"
    values: dict[str, Any] = field(default_factory=dict)
    groups: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, path: Path, rel_path: str) -> tuple[PolicyFacts, list[Problem]]:
        facts = cls(path=rel_path)
        if not path.exists():
            return facts, []
        text, problems = decode_utf8(path.read_bytes(), rel_path)
        if text is None:
            return facts, problems
        for n, line in enumerate(text.split("\n"), start=1):
            if "\t" in line:
                return facts, [
                    error(rel_path, n, "tab character: YAML allows only spaces; replace the tab with spaces")
                ]
        try:
            data = safe_yaml.load(text)
        except safe_yaml.YamlLimitError as exc:
            mark = exc.problem_mark
            return facts, [error(rel_path, mark.line + 1 if mark else 1, f"policy facts: {exc.problem}")]
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            return facts, [
                error(
                    rel_path,
                    mark.line + 1 if mark else 1,
                    f"policy facts are not valid YAML ({exc.problem}): fix the file",
                )
            ]
        if data is None:
            return facts, []
        if not isinstance(data, dict):
            return facts, [error(rel_path, 1, "policy facts must be a mapping of names to values")]
        facts._flatten(data, "")
        return facts, []

    def _flatten(self, data: dict[Any, Any], prefix: str) -> None:
        for key, value in data.items():
            name = f"{prefix}{key}"
            if isinstance(value, dict):
                self.groups.add(name)
                self._flatten(value, name + ".")
            else:
                self.values[name] = value

    def resolve(self, key: str, filt: str | None, lang: str) -> tuple[str | None, str | None]:
        """Return (text, None) or (None, the reason it cannot be resolved)."""
        if filt is not None and filt not in FILTERS:
            return None, f"unknown filter '| {filt}' on policy.{key}: the only filter is '| digits'"
        if key not in self.values:
            if key in self.groups:
                inside = sorted(k for k in self.values if k.startswith(key + "."))[:4]
                return None, (
                    f"policy.{key} is a group, not a value: use one of "
                    + ", ".join(f"policy.{k}" for k in inside)
                )
            where = f" in {self.path}" if self.path else ""
            hint = did_you_mean(key, sorted(self.values))
            if hint:
                hint = hint.replace("'", "'policy.", 1)
            return None, f"unknown policy key 'policy.{key}'{hint or ''} (add it{where} or fix the name)"
        value = self.values[key]
        text = _format(value)
        digits = native_digits(lang) if filt == "digits" else None
        if digits:
            text = text.translate(str.maketrans("0123456789", digits))
        return text, None

    def substitute(self, markdown: str, lang: str) -> str:
        """Replace every resolvable reference outside code (code shows template syntax as
        written); unresolvable ones stay as they are and are reported by the content checks."""
        lines = markdown.split("\n")
        for index, visible in visible_lines(markdown, 0):
            if "{{" not in visible:
                continue
            line = lines[index]
            # Right to left, so the columns of the placeholders still to replace stay valid.
            for found in reversed([p for p in placeholders(visible) if p.kind == "policy"]):
                text, _ = self.resolve(found.key, found.filter, lang)
                if text is not None:
                    line = line[: found.column] + text + line[found.column + len(found.text) :]
            lines[index] = line
        return "\n".join(lines)


def _format(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return ", ".join(_format(v) for v in value)
    return str(value)
