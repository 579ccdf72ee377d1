"""One search request, checked once: ``SearchQuery`` is built from the HTTP request (GET and
POST) and from ``kb search`` alike, and every limit lives here.

A request outside the limits raises ``QueryError``, whose ``code`` is the API's error code
(the service answers 422 with it) and whose message is what ``kb search`` prints after
``Error:``. Messages never repeat the rejected value: they end up in HTTP responses.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, overload

from kb_tools.errors import KbError

if TYPE_CHECKING:
    from kb_tools.search.searcher import Hit

MODES = ("hybrid", "lexical", "semantic")
MAX_QUERY_CHARS = 512  # the default; kb serve's KB_MAX_QUERY_LENGTH can move it
MAX_K = 50
DEFAULT_K = 10
MAX_CONTEXT_CHARS = 200
LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")  # en, bn, gu-Latn
SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$")  # category and product slugs


class QueryError(KbError):
    """A search request outside the limits. ``code`` names the problem for the API
    (``missing_query``, ``query_too_long``, ``invalid_parameter``, ``unknown_language``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Context:
    """Where the shopper is when they search, e.g. on a product page: its hits get a boost.
    Written ``product:blender-x2,category:kitchen,lang:bn`` in a widget's ``data-context``."""

    product: str | None = None
    category: str | None = None
    lang: str | None = None

    @classmethod
    def parse(cls, text: str | None) -> Context:
        """Unknown keys and empty values are ignored (a page's markup is not the shopper's
        fault); more than MAX_CONTEXT_CHARS is an error."""
        if not text:
            return cls()
        if not isinstance(text, str):
            raise QueryError("invalid_parameter", "context must be text such as product:blender-x2.")
        if len(text) > MAX_CONTEXT_CHARS:
            raise QueryError("invalid_parameter", f"context is longer than {MAX_CONTEXT_CHARS} characters.")
        values: dict[str, str] = {}
        for part in text.split(","):
            name, _, value = part.strip().partition(":")
            name, value = name.strip(), value.strip()
            if name in ("product", "category", "lang") and value and name not in values:
                values[name] = value
        return cls(**values)


@dataclass(frozen=True)
class SearchQuery:
    """What the shopper typed and how to search it. Build it with :meth:`parse`, which enforces
    every limit; the plain constructor checks the mode, ``k`` and the filters."""

    text: str  # whitespace collapsed, never empty
    k: int = DEFAULT_K
    lang: str | None = None  # only hits in this language
    mode: str = "hybrid"  # one of MODES
    category: str | None = None  # only hits in this category
    product: str | None = None  # only hits about this product
    context: Context = field(default_factory=Context)  # boosts, never filters

    def __post_init__(self) -> None:
        if not self.text:
            raise QueryError("missing_query", "The query is empty: type what you are looking for.")
        if self.mode not in MODES:
            raise QueryError("invalid_parameter", f"mode must be one of {', '.join(MODES)}.")
        if isinstance(self.k, bool) or not isinstance(self.k, int) or not 1 <= self.k <= MAX_K:
            raise QueryError("invalid_parameter", f"k must be a whole number from 1 to {MAX_K}.")
        if self.lang is not None and not (isinstance(self.lang, str) and LANG.match(self.lang)):
            raise QueryError("invalid_parameter", "lang must be a language code such as en, bn or gu-Latn.")
        for name in ("category", "product"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, str) and SLUG.match(value)):
                raise QueryError("invalid_parameter",
                                 f"{name} must be a slug: letters, digits, - and _, at most 80 characters.")

    @classmethod
    def parse(cls, text: object, *, k: int = DEFAULT_K, lang: str | None = None, mode: str = "hybrid",
              category: str | None = None, product: str | None = None,
              context: str | Context | None = None, max_chars: int = MAX_QUERY_CHARS) -> SearchQuery:
        """The query for raw input: whitespace collapsed, then the length checked against
        ``max_chars`` and ``context`` parsed. Empty strings for the filters mean no filter."""
        if not isinstance(text, str):
            raise QueryError("invalid_parameter", "The query must be text.")
        clean = " ".join(text.split())
        if len(clean) > max_chars:
            raise QueryError("query_too_long", f"The query is {len(clean)} characters long; the limit is {max_chars}.")
        ctx = context if isinstance(context, Context) else Context.parse(context)
        return cls(clean, k=k, lang=lang or None, mode=mode, category=category or None,
                   product=product or None, context=ctx)

    @property
    def filters(self) -> dict[str, str]:
        """Chunk field -> required value, for the filters that are set."""
        pairs = (("lang", self.lang), ("category", self.category), ("products", self.product))
        return {name: value for name, value in pairs if value}


@dataclass(frozen=True)
class SearchResults(Sequence["Hit"]):
    """The answer to one SearchQuery: a sequence of hits, best first, plus what the search did
    (``mode`` is the mode that ran: lexical when the index has no vectors). ``answered`` says
    whether search has an answer: when it is false the hits are only the nearest pages and no
    client may present one as the answer. ``query_lang`` is how the query is written: ``en``,
    ``bn``, ``gu``, ``hi``, or ``bn-Latn``/``gu-Latn``/``hi-Latn`` for those typed in Latin
    letters."""

    hits: tuple[Hit, ...] = ()
    mode: str = "hybrid"
    answered: bool = False
    query_lang: str | None = None

    @overload
    def __getitem__(self, i: int) -> Hit: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[Hit]: ...
    def __getitem__(self, i: int | slice) -> Hit | Sequence[Hit]:
        return self.hits[i]

    def __len__(self) -> int:
        return len(self.hits)

    def __iter__(self) -> Iterator[Hit]:
        return iter(self.hits)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object the API and ``kb search --json`` print (the service adds took_ms)."""
        return {"hits": [h.to_dict() for h in self.hits], "answered": self.answered,
                "query_lang": self.query_lang, "mode": self.mode}
