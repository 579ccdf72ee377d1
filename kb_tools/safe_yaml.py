"""YAML from writers and shoppers' tools, read with limits.

`yaml.safe_load` refuses Python objects but not aliases: 350 bytes of nested `&a`/`*a`
references ("billion laughs") load as a small graph that expands to hundreds of millions of
values the moment anything walks it (a template printing a title, `str()`, JSON). Here a
document is composed first, its expanded size is counted on the graph (linear in the bytes
read), and it is refused with the line of the alias when it would expand past `MAX_NODES`.
Nesting deeper than `MAX_DEPTH` is refused too (PyYAML composes recursively).

The errors are `yaml.MarkedYAMLError`s, so a caller that already reports YAML errors with
their line reports these the same way.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_NODES = 100_000  # values in the expanded document: far above any real front matter or policy file
MAX_DEPTH = 100


class YamlLimitError(yaml.MarkedYAMLError):
    """A document that would expand past MAX_NODES values or nest deeper than MAX_DEPTH."""


class _Loader(yaml.SafeLoader):
    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.aliases: list[tuple[yaml.Mark, yaml.Node]] = []
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            node = super().compose_node(parent, index)
            if node is not None:
                self.aliases.append((event.start_mark, node))
            return node
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                event = self.peek_event()
                raise YamlLimitError(None, None, f"values nested more than {MAX_DEPTH} levels deep: "
                                                 "flatten the structure", event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def expanded_size(node: yaml.Node, limit: int = MAX_NODES) -> int:
    """How many values `node` stands for once every alias is expanded (stops counting past
    `limit`). Shared nodes are counted once per use but visited once: linear in the graph."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(node, False)]
    while stack:
        current, children_done = stack.pop()
        key = id(current)
        if key in sizes:
            continue
        if isinstance(current, yaml.ScalarNode):
            sizes[key] = 1
            continue
        if isinstance(current, yaml.MappingNode):
            children = [n for pair in current.value for n in pair]
        else:
            children = list(current.value)
        if children_done:
            sizes[key] = min(limit + 1, 1 + sum(sizes[id(c)] for c in children))
            continue
        stack.append((current, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(node)]


def compose(text: str) -> yaml.Node | None:
    """The node graph of one YAML document, refused when it is too big once expanded."""
    loader = _Loader(text)
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:
            raise YamlLimitError(None, None, "values nested too deeply: flatten the structure",
                                 loader.peek_event().start_mark if loader.check_event() else None) from None
        if node is not None and loader.aliases and expanded_size(node) > MAX_NODES:
            mark = next((m for m, target in loader.aliases if not isinstance(target, yaml.ScalarNode)),
                        loader.aliases[0][0])
            raise YamlLimitError(None, None, f"aliases (*name) expand to more than {MAX_NODES:,} values: "
                                             "write the values out instead of repeating anchors", mark)
        return node
    finally:
        loader.dispose()


def construct(node: yaml.Node | None) -> Any:
    """Python values of a node from `compose` (safe types only)."""
    if node is None:
        return None
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_document(node)
    finally:
        loader.dispose()


def load(text: str) -> Any:
    """`yaml.safe_load` with the limits above."""
    return construct(compose(text))
