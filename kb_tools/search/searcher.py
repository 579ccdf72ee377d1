"""``Searcher``: the read-only, thread-safe query side of a built index.

One query: its language and script are detected (``romanized.detect_language``); the lexical
side matches its words (a romanized query by sound against the native words); the semantic
side encodes it (a romanized query with a native-script reading) and scores every chunk by
its cosine minus the query's mean cosine to the chunk's language — the multilingual encoder
rates any two texts of one language as closer than a question and its answer across
languages, and this takes that out; fusion, boosts and translation folding
(``ranking``); then every hit gets a calibrated ``confidence`` and the results an
``answered`` decision (``answer``)."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kb_tools.content.languages import INDIC_LANGUAGES
from kb_tools.errors import SearchIndexError
from kb_tools.search.analyzer import COURTESY, detect_script, script_of, without_greeting
from kb_tools.search.answer import (
    AnswerModel,
    bank_vectors,
    heading_vectors,
    hit_features,
    model_for,
    shop_bank_vectors,
)
from kb_tools.search.build import CHUNKS, HEADINGS, MANIFEST, SCHEMA_VERSION, VECTORS, chunk_heading
from kb_tools.search.chunking import Chunk
from kb_tools.search.query import Context, QueryError, SearchQuery, SearchResults
from kb_tools.search.ranking import (
    DEFAULT_FUSION,
    ENGLISH_ONLY_FUSION,
    ENGLISH_ONLY_MODELS,
    Candidates,
    FusionSettings,
    Translations,
    boost,
    context_order,
    fuse,
    group_by_page,
    overview_pages,
    preferred_language,
    snippet,
)

CANDIDATES = 50
SEMANTIC_GROUPS = 20  # the best translation groups by centred cosine a query keeps (Candidates.semantic_pages)
REBUILD = "run `mkdocs build` (or `KB_SEARCH=true mkdocs build`) to rebuild it"


def index_signature(index_dir: Path) -> tuple[int, int, int] | None:
    """The identity of the index now in ``index_dir`` (None when there is none): a build swaps
    a new folder in, so this changes exactly when there is a new index to load."""
    try:
        st = (Path(index_dir) / MANIFEST).stat()
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


_BLAS_LIMITED = False


def one_blas_thread() -> None:
    """Let numpy's BLAS use one thread in this process (once). Each query's top-k is one
    matrix-vector product over the index's vectors, memory-bound: a second thread barely
    speeds it up, and OpenBLAS's threads spin while they wait, fighting the other searches,
    the encoder and the web server for the cores (measured on 2 cores, 10k x 384 float32
    under load: 24 ms wall with the default 2 threads, 5-9 ms with one)."""
    global _BLAS_LIMITED
    if _BLAS_LIMITED:
        return
    _BLAS_LIMITED = True
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a dependency; without it BLAS keeps its default
        return
    threadpool_limits(limits=1, user_api="blas")


def settle_garbage_collector() -> None:
    """Collect garbage once, then freeze every object alive (``gc.freeze``): a loaded index is
    some 70,000 objects that live as long as the process serves it, and each full collection
    walked them all — 80-130 ms at 10k chunks, landing inside whichever search triggered it
    (the slowest searches of ``bench.bench_speed --tail``). Frozen objects are still freed
    when nothing refers to them; a cycle among them waits for the next call, which unfreezes
    first, so an index swapped out by a rebuild is collected when the next one is loaded."""
    import gc

    gc.unfreeze()
    gc.collect()
    gc.freeze()


@dataclass(frozen=True)
class Hit:
    url: str  # site-relative: "returns/start-a-return/#step-2"
    title: str
    section: str
    snippet: str  # HTML-escaped, matched words in <mark>
    score: float
    lang: str
    kind: str  # "article" | "video"
    start: float | None = None  # seconds, for video hits
    confidence: float = 0.0  # probability that this hit answers the query (calibrated, 0..1)

    def to_dict(self) -> dict[str, Any]:
        # The fields in their order, as dataclasses.asdict gives them (every value is a str, a
        # float or None: asdict's deep copy of each one only cost time, ~10 per cent of a
        # search's own work besides the encoder; tests/test_search_speed.py compares the two).
        return {"url": self.url, "title": self.title, "section": self.section, "snippet": self.snippet,
                "score": self.score, "lang": self.lang, "kind": self.kind, "start": self.start,
                "confidence": self.confidence}


_MARKS = re.compile(r"!+|([?.,])\1+")  # "!" read as nothing, "???" as "?"
_JOINERS = "\u200d\ufe0e\ufe0f"  # zero-width joiner, text and emoji variation selectors


def plain_question(text: str) -> str:
    """What the encoder is given of a question as typed: without the greeting that opens it
    (``analyzer.without_greeting``), in lower case, without emoji and other symbols, without
    exclamation marks, "???" as "?", and without courtesy words (``analyzer.COURTESY``). The
    encoder reads all of these as meaning: "WHERE IS MY ORDER", "Where is my order" (a
    phone's capital), "where is my order 😡" and "hi, where is my order" each put the
    change-an-order page first where "where is my order" puts the tracking page; a Banglish
    question in capitals was read by Avro Phonetic's capital letters ("AMAR" আমাড়). A single
    "?" stays: the encoder reads a question better with it (left out, 17 labelled questions
    fell and 4 rose). The lexical side reads the question without its greeting and in lower
    case too, and never sees symbols. A zero-width joiner is kept between letters (Bengali
    র‍্য), dropped with the emoji it joined. A question of nothing else stays as typed."""
    import unicodedata

    out: list[str] = []
    for ch in without_greeting(text).lower():
        if unicodedata.category(ch) in ("So", "Sk", "Cs", "Co") or (ch in _JOINERS and (not out or out[-1] == " ")):
            if out and out[-1] != " ":
                out.append(" ")
            continue
        out.append(ch)
    plain = _MARKS.sub(r"\1", "".join(out))
    plain = " ".join(w for w in plain.split() if w.strip(".,!?") not in COURTESY)
    return plain or text


def glossed_text(text: str, lexical: Any) -> str:
    """``text`` followed by the English page words the glossaries (the shipped one and the
    site's own) give its Bengali, Gujarati and Devanagari words, as the pages write them, or
    ``text`` alone. The encoder carries most of a native-script question's score and
    cannot know what a shop calls its products (গানবাক্স for the pages' "Zuno"), nor match a
    Bengali word to an English-only page as well as the English word: it reads the words the
    lexical side searches for too (``LexicalIndex.expansions`` of each word's analysed form and
    its other inflections, ``analyzer.other_forms``: গানবাক্সটা is glossed as গানবাক্স). Only
    words the pages never use in any of those forms, as with loanwords: one the pages of its
    language have already matches there, and read in English it would pull the question to the
    English pages (tune: native Bengali 0.895 -> 0.881 when every word was glossed). A gloss
    the pages never use adds nothing."""
    import unicodedata

    from kb_tools.search.analyzer import other_forms, words

    text = unicodedata.normalize("NFC", text)  # the offsets of words() are into the NFC text
    typed = words(text)
    asked = {w.term for w in typed}
    found: list[str] = []
    read: list[str] = []  # the analysed terms of ``found``
    for w in typed:
        if script_of(w.term[0]) not in INDIC_LANGUAGES:
            continue
        forms = [w.term, *other_forms(text[w.start : w.end].casefold())]  # હપ્તેથી: હપ્તે, હપ્ત
        if any(f in lexical.vocab for f in forms):
            continue
        for form in forms:
            for term, _ in lexical.expansions(form):
                english = lexical.glossary.written.get(term) or lexical.surface.get(term, term)
                if term not in asked and english not in found and not any(one_family(term, t) for t in read):
                    found.append(english)
                    read.append(term)
    return f"{text} {' '.join(found)}" if found else text


def one_family(a: str, b: str) -> bool:
    """Two analysed English words of one family that the stemmer keeps apart ("regist" and
    "registr": register, registration; "deliv" and "deliveri"; "complain" and "complaint"):
    the shorter, less its last letter (at least 4 letters), begins the longer. A glossary
    entry lists a word's family ("create register registration") so that the lexical side
    matches whichever the pages say; the encoder reads one of them: read twice, the family
    outweighs the question's own words, and the second word pulls to the pages whose title is
    that word ("registration" to the registration-problems page, for "how do I make an
    account" in Gujarati: a 0.2 % margin with the C engine, turned by the ONNX encoder)."""
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    return short != long and len(short) >= 5 and long.startswith(short[:-1])


def best_first(values: Any, m: int) -> Any:
    """The indices of the ``m`` largest of ``values``, best first, the masked-out (-inf) left out."""
    import numpy as np

    top = np.argpartition(-values, m - 1)[:m]
    top = top[np.argsort(-values[top], kind="stable")]
    return top[np.isfinite(values[top])]


class Searcher:
    """Open the index in ``index_dir`` (raises SearchIndexError when missing or stale).

    The embedding model loads on the first semantic or hybrid query, or on ``warm_up()``.
    """

    def __init__(self, index_dir: str | Path, *, fusion: FusionSettings | None = None) -> None:
        import numpy as np

        from kb_tools.search.lexical import LexicalIndex

        self.index_dir = Path(index_dir)
        mpath = self.index_dir / MANIFEST
        if not mpath.exists():
            raise SearchIndexError(f"no search index in {self.index_dir}: {REBUILD}")
        try:
            manifest = json.loads(mpath.read_text(encoding="utf-8"))
        except ValueError as e:
            raise SearchIndexError(f"{mpath} is unreadable ({e}): {REBUILD}") from e
        if manifest.get("schema") != SCHEMA_VERSION:
            raise SearchIndexError(
                f"the search index in {self.index_dir} has schema {manifest.get('schema')!r}, "
                f"this version reads schema {SCHEMA_VERSION}: {REBUILD}"
            )
        self.manifest: dict[str, Any] = manifest
        self.fusion = fusion or (ENGLISH_ONLY_FUSION if manifest.get("model") in ENGLISH_ONLY_MODELS else DEFAULT_FUSION)
        try:
            raw = json.loads((self.index_dir / CHUNKS).read_text(encoding="utf-8"))
            self.chunks = [Chunk.from_json(d) for d in raw]
            self.vectors = np.load(self.index_dir / VECTORS)
            # An index built before heading vectors has none: the decision does without them.
            # Mapped, not read: a truncated file fails here, while the rows are read only when
            # the model loads (lexical search never reads them).
            heads = self.index_dir / HEADINGS
            self._heading_matrix = np.load(heads, mmap_mode="r") if heads.exists() else None
            self.lexical = LexicalIndex(self.index_dir, [c.text for c in self.chunks])
        except Exception as e:
            raise SearchIndexError(f"the search index in {self.index_dir} is broken ({e}): {REBUILD}") from e
        self._page_of = [c.page_url for c in self.chunks]
        self._url_of = [c.url for c in self.chunks]
        overviews = overview_pages(self._page_of)
        self._overview = [p in overviews for p in self._page_of]
        self._answer_pages = np.asarray([not o for o in self._overview], dtype=bool)
        self._latin_lang = "en" if "en" in (manifest.get("counts", {}).get("lang") or {}) else None
        self.has_vectors = bool(self.manifest.get("dimension")) and self.vectors.shape[0] == len(self.chunks)
        self.translations = Translations(self.chunks, self._latin_lang)
        self._group_of = [self.translations.group[c.page_url] for c in self.chunks]
        langs = sorted({c.lang for c in self.chunks})
        self._lang_index = np.asarray([langs.index(c.lang) for c in self.chunks], dtype=np.int64)
        self._lang_of = {lang: i for i, lang in enumerate(langs)}
        self._lang_means: Any = None  # mean chunk vector of each language (rows in `langs` order)
        self._other_pages: dict[str, Any] = {}  # language -> the answer pages' chunks in the other languages
        self._english: set[str] | None = None
        self._lock = threading.Lock()
        self._encoder: Any = None
        self._bank: Any = None  # the off-topic bank's centred vectors (answer.bank_vectors), with the model
        self._shop_bank: Any = None  # the shop bank's (answer.shop_bank_vectors), on the same scale
        self._headings: Any = None  # the answer pages' heading vectors, centred (answer.heading_vectors), with the model
        self._heading_rows: dict[str, tuple[int, int]] = {}  # translation group -> its answer pages' rows of _headings
        # Filter masks for the values the index holds (a product=/category= value nobody wrote
        # gets the empty mask, uncached): bounded by the index, not by what clients send.
        self._masks: dict[tuple[str, str], Any] = {}
        self._values: dict[str, frozenset[str]] = {}
        self.answer_model: AnswerModel | None = model_for(
            str(self.manifest.get("model_key") or "") if self.has_vectors else "")
        # Lexical mode (asked for, or while kb serve loads the model) has no semantic signals.
        self.lexical_answer_model: AnswerModel | None = model_for("")
        self.calibrated = self.answer_model is not None and bool(self.answer_model.encoder)

    # -- model ---------------------------------------------------------------------------
    @property
    def encoder(self) -> Any:
        """The index's encoder (kb_tools.search.encoders), loaded on first use."""
        self._ensure_model()
        return self._encoder

    def warm_up(self) -> None:
        """Load the model and run one query, so the first user query is fast; then take what
        is loaded out of the garbage collector's way (:func:`settle_garbage_collector`)."""
        from kb_tools.search import romanized

        self.lexical.prepare()
        self.english_words()
        romanized.warm_up(self.lexical)
        if self.has_vectors:
            self._ensure_model()
            self._encoder.encode_queries(["warm up"])
        settle_garbage_collector()

    def _ensure_model(self) -> None:
        if self._encoder is not None:
            return
        with self._lock:
            if self._encoder is not None:
                return
            import numpy as np

            from kb_tools.search.encoders import EncoderSpec, get_encoder

            m = self.manifest
            folder = m.get("model_path") or ""
            spec = EncoderSpec(folder if folder and Path(folder).is_dir() else m.get("model", ""),
                               m.get("query_prefix", ""), m.get("passage_prefix", ""))
            encoder = get_encoder(spec)
            if encoder.dimension != self.vectors.shape[1]:
                raise SearchIndexError(
                    f"the search index in {self.index_dir} was built with vectors of {self.vectors.shape[1]} "
                    f"dimensions, the model {spec.model!r} gives {encoder.dimension}: {REBUILD}")
            means = np.zeros((int(self._lang_index.max()) + 1, self.vectors.shape[1]), dtype=np.float32)
            for i in range(means.shape[0]):
                means[i] = self.vectors[self._lang_index == i].mean(axis=0)
            self._lang_means = means
            if self.calibrated:  # only the answer model reads the banks
                self._bank = bank_vectors(encoder)
                self._shop_bank = shop_bank_vectors(encoder)
                self._load_headings(encoder)
            one_blas_thread()
            self._encoder = encoder

    def _load_headings(self, encoder: Any) -> None:
        """The answer pages' heading vectors (build.HEADINGS) centred for the decision, and each
        translation group's rows; left None when the index has none of this encoder's
        dimension (built before heading vectors, or without vectors)."""
        import numpy as np

        matrix, self._heading_matrix = self._heading_matrix, None  # only the centred rows are kept
        if matrix is None or matrix.shape != (len(self.chunks), encoder.dimension):
            return
        # The answer pages' chunks, a translation group's next to each other (in index order
        # within the group): a hit's heading rows are then one slice, not a gather.
        groups: dict[str, list[int]] = {}
        for i, overview in enumerate(self._overview):
            if not overview:
                groups.setdefault(self._group_of[i], []).append(i)
        answers = [i for chunks in groups.values() for i in chunks]
        if not answers:
            return
        vecs = np.asarray(matrix[answers])  # read from the mapped file (the one opened, even if swapped since)
        del matrix  # unmapped
        self._headings = heading_vectors(encoder, [chunk_heading(self.chunks[i]) for i in answers], vecs)
        start = 0
        for g, chunks in groups.items():
            self._heading_rows[g] = (start, start + len(chunks))
            start += len(chunks)

    def _heading_cosines(self, cands: Candidates, grouped: list[tuple[int, float]]) -> dict[str, float] | None:
        """Each hit's translation group -> the best cosine of the question to a heading of its
        answer pages, 0 for a group with none (an overview page); None without heading vectors."""
        if self._headings is None or cands.vector is None:
            return None
        out: dict[str, float] = {}
        for cid, _ in grouped:
            g = self._group_of[cid]
            if g not in out:
                rows = self._heading_rows.get(g)
                out[g] = float((self._headings[rows[0]:rows[1]] @ cands.vector).max()) if rows is not None else 0.0
        return out

    def english_words(self) -> set[str]:
        """The index's Latin-script terms (English words the pages use), for telling English
        queries from romanized ones."""
        if self._english is None:
            self._english = {t for t in self.lexical.vocab if t and script_of(t[0]) == "latin"}
        return self._english

    def _field_mask(self, field: str, value: str) -> Any:
        import numpy as np

        key = (field, value)
        mask = self._masks.get(key)
        if mask is not None:
            return mask
        known = self._values.get(field)
        if known is None:
            if field == "products":
                known = frozenset(p for c in self.chunks for p in c.products)
            else:
                known = frozenset(str(getattr(c, field)) for c in self.chunks)
            self._values[field] = known
        if value not in known:  # matches nothing; not kept, so crafted values cost no memory
            return np.zeros(len(self.chunks), dtype=bool)
        if field == "products":
            vals = [value in c.products for c in self.chunks]
        else:
            vals = [getattr(c, field) == value for c in self.chunks]
        mask = self._masks[key] = np.asarray(vals, dtype=bool)
        return mask

    def _np_mask(self, filters: dict[str, str] | None) -> Any:
        """Chunks that pass every filter (numpy bool array), or None without filters."""
        if not filters:
            return None
        mask = None
        for field, value in filters.items():
            m = self._field_mask(field, value)
            mask = m if mask is None else mask & m
        return mask

    def _semantic(self, vector: Any, filters: dict[str, str] | None, extra: list[int], n: int = CANDIDATES,
                  centre: bool = True, lang: str = "") -> dict[str, Any]:
        """The semantic side of one query: ``scores`` (chunk -> ranking score) of the top ``n``
        chunks and of ``extra``; their ``cosine`` and ``centred`` cosine (minus the query's
        mean cosine to the chunk's language; a translated section's ranking score also takes
        its original page's word: ``Translations.agree_with_originals``); the ``best`` centred cosine, and the best of a
        chunk in another language than ``lang`` (the question's: ``other``); the best
        translation ``groups`` by centred cosine. A query in the site's default language is
        ranked by plain cosine: every answer exists in its language, and a video's captions in
        another language must not rise above its own."""
        import numpy as np

        out: dict[str, Any] = {"scores": {}, "cosine": {}, "centred": {}, "best": 0.0, "other": 0.0, "groups": []}
        if not self.chunks:
            return out
        self._ensure_model()
        cos = self.vectors @ vector
        centred = cos - (self._lang_means @ vector)[self._lang_index]
        rank_by = self.translations.agree_with_originals(centred, self.fusion.original_share) if centre else cos
        ranked_by_centred = rank_by is centred  # no translation moved a score (or none exists)
        mask = self._np_mask(filters)
        if mask is not None:
            rank_by = np.where(mask, rank_by, -np.inf)
            centred = np.where(mask, centred, -np.inf)
        m = min(4 * n, rank_by.shape[0])
        top = best_first(rank_by, m)
        # Whole arrays read at once, then Python floats (.tolist(): the same values as float()).
        more = np.asarray(extra, dtype=np.int64)
        ids = top[:n].tolist() + more[np.isfinite(rank_by[more])].tolist()
        out["scores"] = dict(zip(ids, rank_by[ids].tolist(), strict=True))
        out["cosine"] = dict(zip(ids, cos[ids].tolist(), strict=True))
        out["centred"] = dict(zip(ids, centred[ids].tolist(), strict=True))
        if ranked_by_centred:
            by_centred = top
        else:
            by_centred = best_first(centred, m) if centre else top[np.argsort(-centred[top], kind="stable")]
        groups: dict[str, float] = {}
        group_of = self._group_of
        for i, value in zip(by_centred.tolist(), centred[by_centred].tolist(), strict=True):
            g = group_of[i]
            if g not in groups:
                groups[g] = value
                if len(groups) == SEMANTIC_GROUPS:  # the rest of the ~400 cannot enter the list
                    break
        out["best"] = float(centred[by_centred[0]]) if by_centred.size else 0.0
        out["other"] = self._best_in_other_languages(centred, lang)
        out["groups"] = list(groups.items())
        return out

    def _best_in_other_languages(self, centred: Any, lang: str) -> float:
        """The best centred cosine of a chunk whose language is not ``lang`` (every chunk's for
        a language without pages), 0.0 when there is none: whether an answer exists in any
        language, where a first hit in the question's own language says only that this page
        answers it or not. Overview pages (the home page, section indexes, the videos gallery)
        list answers without being one, and sit near every short question: they are left out."""
        import numpy as np

        where = self._other_pages.get(lang)
        if where is None:  # one mask per language the index has (any other: every answer page)
            where = (self._lang_index != self._lang_of.get(lang, -1)) & self._answer_pages
            if lang in self._lang_of:
                self._other_pages[lang] = where
        best = float(np.max(centred, where=where, initial=-np.inf))
        return best if np.isfinite(best) else 0.0

    # -- search ----------------------------------------------------------------------------
    @property
    def languages(self) -> list[str]:
        """Languages that have chunks in this index (en, bn, gu, ...), sorted."""
        counts = self.manifest.get("counts")
        langs = counts.get("lang") if isinstance(counts, dict) else None
        return sorted(langs) if isinstance(langs, dict) else []

    def search(self, query: SearchQuery | str, **options: Any) -> SearchResults:
        """The best hits for ``query``: a SearchQuery, or the text plus SearchQuery.parse's
        keyword arguments (``search("refund", k=5, lang="bn")``). Raises QueryError when the
        query is outside the limits or asks for a language the index does not have."""
        if isinstance(query, SearchQuery) and options:
            raise TypeError("pass either a SearchQuery or the text with options, not both")
        q = query if isinstance(query, SearchQuery) else SearchQuery.parse(query, **options)
        langs = self.languages
        if q.lang and langs and q.lang not in langs:
            raise QueryError("unknown_language", f"No pages in language '{q.lang}'. Available: {', '.join(langs)}.")
        mode = q.mode if self.has_vectors else "lexical"
        cands = self.candidates(q.text, mode, q.filters)
        features: list[dict[str, float]] = []
        hits = self.rank(cands, mode, q.k, q.context, features=features, lang=q.lang)
        if mode != "lexical" and not self.calibrated:
            # No answer model was fitted for this index's encoder (all-MiniLM-L6-v2 or a shop's
            # own folder): search cannot tell, so any hit for a query with a letter or digit
            # counts as an answer, as before issue 10.
            return SearchResults(tuple(hits), mode=mode, answered=bool(hits) and any(ch.isalnum() for ch in q.text),
                                 query_lang=cands.query_lang)
        return SearchResults(tuple(hits), mode=mode, answered=self.answered(q.text, hits, features, mode),
                             query_lang=cands.query_lang)

    def model_for_mode(self, mode: str) -> AnswerModel | None:
        return self.lexical_answer_model if mode == "lexical" else self.answer_model

    def answered(self, text: str, hits: list[Hit], features: list[dict[str, float]], mode: str = "hybrid") -> bool:
        """Search has an answer: the answer model rates the best hit's page likely enough to
        answer the query, and the query has a letter or a digit ("???" never has one)."""
        model = self.model_for_mode(mode)
        if not hits or not features or model is None or not any(ch.isalnum() for ch in text):
            return False
        return model.answerable(features[0]) >= model.threshold

    def query_language(self, text: str) -> str:
        """``en``, ``bn``, ``gu``, ``hi`` or ``bn-Latn``/``gu-Latn``/``hi-Latn``."""
        from kb_tools.search.romanized import detect_language

        return detect_language(without_greeting(text), self.lexical.keys(), self.english_words(),
                               default=self._latin_lang or "en")

    def encoder_text(self, text: str, lang: str, lq: Any) -> str:
        """What the encoder reads: the query as :func:`plain_question` leaves it (lower case,
        no emoji, no courtesy words), with its Latin-script words spell-corrected
        ("cancle order" -> "cancel order"; a Bengali, Gujarati or Hindi word stays as typed:
        ``LexicalQuery.corrected``), for a romanized one its native-script reading word by word
        (the pages' English words as typed: ``romanized.encoder_text``), for one in Bengali,
        Gujarati or Devanagari script the English words its loanwords stand for and those the
        glossaries give its words (:func:`glossed_text`). A question made of a product's name and
        a question frame ("where is my blender") is followed by what the frame asks about
        (``LexicalQuery.about``: "track order delivery"): read alone, the encoder takes it for
        a question about the product and puts the product's guides first."""
        from kb_tools.search.romanized import encoder_text, loanword_text, spelt_out_text

        if lang.endswith("-Latn"):
            keys = self.lexical.keys() if lang == "gu-Latn" else None
            text = spelt_out_text(plain_question(text), self.lexical, lang.split("-")[0], lq.slips)
            read = loanword_text(encoder_text(text, lang, keys, self.english_words()), self.lexical)
        else:
            read = glossed_text(loanword_text(plain_question(lq.corrected), self.lexical), self.lexical)
        return f"{read} {lq.about}" if lq.about else read

    def candidates(self, text: str, mode: str, filters: dict[str, str] | None = None,
                   query_vector: Any = None) -> Candidates:
        """The lexical and semantic candidate lists of one (already cleaned) query;
        ``query_vector`` skips encoding (benchmarks encode many queries in one batch)."""
        text = self.lexical.spaced(text)  # "myorder": a space a phone left out
        lang = self.query_language(text)
        lq = self.lexical.build_query(text, lang)
        lexical: list[tuple[int, float]] = []
        coverage: dict[int, float] = {}
        if lq.query is not None:
            lexical = self.lexical.search(lq.query, limit=CANDIDATES, mask=self._np_mask(filters), coverage=coverage,
                                          weights=lq.weights, boosts=lq.boosts)
            # Words the pages never use count as unmatched: a Bengali question about a topic
            # only the English pages cover matches a Bengali page on "how" alone, not fully.
            coverage = {c: v * lq.known for c, v in coverage.items()}
        cands = Candidates(lexical, {}, lq.terms, lq.prefixes, detect_script(text),
                           query_lang=lang, coverage=coverage, known=lq.known, words=len(plain_question(text).split()),
                           known_weighted=lq.known_weighted)
        if mode != "lexical" and self.has_vectors:
            vector = query_vector if query_vector is not None else self.encoder.encode_query(self.encoder_text(text, lang, lq))
            extra = [c for c, _ in lexical]
            base = lang.split("-")[0]
            sem = self._semantic(vector, filters, extra, centre=base != (self._latin_lang or "en"), lang=base)
            cands.semantic, cands.cosine, cands.centred = sem["scores"], sem["cosine"], sem["centred"]
            cands.best_centered, cands.semantic_pages = sem["best"], sem["groups"]
            cands.other_language = sem["other"]
            if self._bank is not None:  # how much nearer the off-topic bank is than the site
                cands.offtopic = float((self._bank @ vector).max()) - sem["best"]
            if self._shop_bank is not None:  # how near a question shoppers ask any shop: one scale in every script
                cands.shop = float((self._shop_bank @ vector).max())
            cands.vector = vector  # the decision compares it with the hits' headings
        return cands

    def rank(self, cands: Candidates, mode: str, k: int, context: Context | None = None,
             fusion: FusionSettings | None = None, snippets: bool = True,
             features: list[dict[str, float]] | None = None, lang: str | None = None) -> list[Hit]:
        """Fuse, boost, group and fold translations (ranking.py holds the rules), then each
        hit's confidence. ``features``, when given, receives each hit's answer features;
        ``lang`` is the language filter (translations are then shown in it)."""
        f = fusion or self.fusion
        context = context or Context()
        scores = fuse(cands, mode, f)
        lang = lang or preferred_language(cands.query_lang, context, self._latin_lang)
        romanized = cands.romanized
        for cid in scores:
            scores[cid] *= boost(self.chunks[cid], lang, f, romanized, self._overview[cid])
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
        grouped = group_by_page(ranked, self._page_of, self._url_of, k, f.second_section_ratio,
                                self.translations, lang)
        feats = hit_features(cands, grouped, self._group_of, mode, [self.chunks[cid].lang for cid, _ in grouped],
                             self._heading_cosines(cands, grouped))
        if features is not None:  # the question's own: the context never decides `answered`
            features.extend(feats)
        model = self.model_for_mode(mode)
        conf = [model.confidence(ft) if model else 0.0 for ft in feats]
        return [self._hit(grouped[i][0], grouped[i][1], cands.terms, cands.prefixes, snippets, conf[i])
                for i in context_order(grouped, conf, self.chunks, context, f)]

    def _hit(self, cid: int, score: float, terms: set[str], prefixes: set[str], snippets: bool = True,
             confidence: float = 0.0) -> Hit:
        c = self.chunks[cid]
        body = c.text or c.summary or c.title
        return Hit(
            url=c.url, title=c.title, section=c.section,
            snippet=snippet(body, terms, prefixes) if snippets else "",
            score=round(float(score), 6), lang=c.lang, kind=c.kind, start=c.start,
            confidence=round(float(confidence), 4),
        )

    def close(self) -> None:
        self.lexical.close()
