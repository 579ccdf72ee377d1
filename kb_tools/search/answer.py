"""The answer decision: how sure search is that a hit answers the query.

Every hit gets ``confidence``, the probability that its page answers the query, from a
logistic regression over a few signals that mean the same in every language and for every
query length (see :data:`FEATURES`). The model is fitted on the tune split of the labelled
set and the labelled questions of a few other help centers (``python -m bench.bench_relevance
--calibrate`` writes ``data/answer_model.json``): one shop's questions teach it how that
shop's writers word things. The held-out split and one help center no model sees only measure
it. A search is ``answered`` when the query model's probability reaches the model's threshold,
chosen on out-of-fold probabilities there so that queries without an answer are declined and
answerable ones answered (the rates are in the README).

A query with no letter or digit ("???", "...") is never answered, whatever the model says.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

FEATURES = (
    "coverage",  # share of the query's words the hit's page matches (IDF-weighted, 0..1)
    "cosine",  # cosine of the query and the hit's best section
    "cosine_centered",  # that cosine minus the query's mean cosine to the section's language
    "best_centered",  # the best centred cosine of any section (how well anything matches)
    "semantic_margin",  # best centred page cosine minus the mean of the next five pages
    "semantic_gap",  # best centred page cosine minus the second best
    "lexical_rank",  # 1 / rank of the hit's page in the lexical list (0 when absent)
    "semantic_rank",  # 1 / rank of the hit's page in the semantic list (0 when absent)
    "agree",  # 1 when the lexical and the semantic list put the same page first
    "known",  # share of the query's words that occur in the pages (or match by sound)
    "known_weighted",  # the same share, each word weighted by its IDF (a word no page has weighs most)
    "score_margin",  # fused score of the hit minus that of the next hit
    "rank",  # the hit's position, 1-based
    "words",  # log(1 + the number of words in the query)
    # How the query is written. The encoder's cosines sit on another scale for a question in
    # Bengali or Gujarati script than for one in Latin letters, so the model needs to know the
    # script to give the same confidence the same meaning in every language.
    "indic",  # 1 when the query is in Bengali, Gujarati or Devanagari script
    "latn",  # 1 when it is Bengali, Gujarati or Hindi typed in Latin letters
    # The hit's page is in another language than the question ("ব্লেন্ডার থেকে পোড়া গন্ধ" and
    # an English-only product page). The encoder rates a question and its answer across
    # languages lower than within one (a Bengali question's right English page scores about
    # what an unrelated Bengali page does): this puts each (question, page) language pair's
    # cosines on one scale, so an answer that exists only in English is not taken for none.
    "cross",
    "indic_cosine",  # cosine, for an Indic-script query (else 0)
    "indic_best_centered",  # best_centered, for an Indic-script query (else 0)
    "indic_semantic_margin",  # semantic_margin, for an Indic-script query (else 0)
    # Whether the query is about a shop at all: its best centred cosine to a fixed bank of
    # everyday questions no shop's help center answers (data/offtopic_bank.txt: weather,
    # sport, recipes, tickets, exams, jobs... in every language we serve) minus its best
    # centred cosine to any section of the site (best_centered).
    "offtopic",
    # Whether it is asked the way shoppers ask ANY shop's help center: its best cosine to a
    # fixed bank of generic shop questions (data/shop_bank.txt: order status, delivery, cash on
    # delivery, returns, refunds, payment, account... in every language we serve, in script and
    # in Latin letters), centred like the off-topic bank. Question-to-question cosines sit on
    # one scale across scripts, where a Banglish question's cosines to the pages sit low
    # whether or not the site answers it.
    "shop",
)
# Read by the query model only (what the site has anywhere, not what a hit is): for a question
# in Bengali, Gujarati or Devanagari script, the best centred cosine of any section in another
# language than the question's (an English page for a Bengali question; for Hindi, which has
# no pages, any section), overview pages left out (they list answers without being one). A
# first hit in the shopper's own language says whether THAT page answers; a question answered
# only in English was declined when such a page that does not answer ranked first. Centring
# per language puts each (question, page) language pair on one scale.
#
# "heading_cosine": the question's best cosine to a heading of the hit's page or of its
# translations (each section's heading read with the page title, the introduction's the title
# alone: build.chunk_heading), the headings encoded as questions are (build.py's headings.npy)
# and centred like the shop bank (on the off-topic bank's script means): question to question,
# on one scale in every script. A page's text says everything it says; its headings say what
# it is for, which a question the site does not cover shares with none of them. A hit on an
# overview page (the home page, a section index: it lists answers without being one) gets 0,
# no nearer than an everyday question's mean. An index built before heading vectors has none:
# the query model then reads the signal as its fitted mean (Logistic: a signal a hit lacks
# moves nothing).
QUERY_SIGNALS = ("indic_other_language", "heading_cosine")
LEXICAL_FEATURES = ("coverage", "lexical_rank", "known", "known_weighted", "score_margin", "rank", "words")  # no vectors
# Whether the help center answers the query at all, from its best hit: a few signals that
# mean the same in every language, strongly regularised (QUERY_L2), chosen by 5-fold
# cross-validation on the tune split (bench/bench_relevance.py --calibrate). All the features
# fitted the tune split well and generalised worst; the score margins (semantic_margin) ranked
# the tune split's no-answer queries above its answerable ones, and "cross" lifted the
# out-of-fold share of answered cross-lingual questions from 0.54 to 0.66 at the same declines.
# "offtopic" (the off-topic bank against the site) lifted the out-of-fold rates on tune from
# 0.872 declined / 0.923 answered / AUC 0.965 to 0.885 / 0.929 / 0.970, and did so in each of 20
# reshufflings of the folds (bench_relevance --offtopic; README, "Answer decision"). "shop" (the
# shop bank), with romanized questions read in the native script, lifted them from 0.897 / 0.936
# / 0.973 to 0.897 / 0.942 / 0.978, with the AUC up in each of 20 reshufflings (bench_relevance
# --shop). "agree" (the word match and the meaning match put the same page first: two
# independent readings of the question landing on one page, which a question the site does
# not answer almost never gets) lifted them from 0.923 / 0.951 / 0.980 to 0.910 / 0.959 /
# 0.983; over 20 reshufflings from 0.908 / 0.954 / 0.981 to 0.912 / 0.960 / 0.983, the AUC up
# in each; with the cut chosen without the fold too, from 0.901 / 0.952 to 0.905 / 0.955. It
# helps most where the cosines say least, questions in Latin letters (answered 0.887 ->
# 0.913 out-of-fold). "indic_other_language" (QUERY_SIGNALS) then lifted them a little, to
# 0.910 / 0.964 / 0.985 out-of-fold (agree alone 0.910 / 0.957 / 0.984), over 20 reshufflings
# 0.911 / 0.961 -> 0.917 / 0.963, the AUC up in each, nested 0.904 / 0.957 -> 0.908 / 0.961
# (the same signal for questions in Latin letters too did less). With 34 harder Banglish and
# case-ending questions added to tune, round 8's nine signals / agree / both: out-of-fold
# 0.897 / 0.950, 0.910 / 0.952, 0.910 / 0.952; over 20 reshufflings 0.901 / 0.952, 0.904 /
# 0.956, 0.907 / 0.957; nested 0.896 / 0.950, 0.902 / 0.952, 0.904 / 0.954. bench_relevance
# --decision.
# "heading_cosine" (QUERY_SIGNALS, round 11), fitted on the four shops, without / with: tune
# out-of-fold 0.917 / 0.958 -> 0.917 / 0.969, over 20 reshufflings 0.911 / 0.959 -> 0.920 /
# 0.963 (the AUC up in each), nested 0.904 / 0.958 -> 0.903 / 0.963; each shop left out
# (bench_shops --without heading_cosine) declined up on three (sample, tulip, ghor: one question
# each), answered -2 on tulip, +2 on bazaar, -1 on ghor, AUC +0.001 / +0.001 / -0.002 / +0.005;
# with their pages removed (--subsites) the AUC rose on all 12 sub-site sizes and the questions
# they no longer cover were declined more on 11 (sample 0.227 -> 0.290 with 4 groups kept).
# Round 13, measured and not kept (bench/bench_sentences.py; README, "Round 13: sentence-level
# evidence"): the question's best cosine to ONE sentence of the first hit's page, centred like
# cosine_centered (and as a window of two, minus the section's cosine, read question to
# question, the rarest word in it): left out, AUC 0.957 -> 0.959 (a bootstrap interval across 0),
# sub-sites 7 sizes up / 5 down, and no better than the section's cosine on round 12's on-topic
# unanswered questions (AUC 0.590 against 0.701): not worth a sentence vector per sentence.
# Round 15, measured and not kept (bench/bench_reader.py; README, "Round 15: a learned reader"):
# the e5 vectors of the question and of the first hit's best section as inputs (PCA of q*s, |q-s|,
# q-s; a strong-L2 reader on the pair; one fitted on (question, top-5 page) pairs). The page reader
# lowers the left-out AUC (0.952 -> 0.945); the question's vector alone lifts it most (+0.019: it
# learns our no-answer questions' kind) and declines fewer held-out; PCA 16 of |q-s| separates
# better on every shop but at the cut answers fewer (phool 0.876 -> 0.822 against this model).
QUERY_FEATURES = ("coverage", "known_weighted", "cosine", "cosine_centered", "cross", "indic", "latn", "offtopic",
                  "shop", "agree", "indic_other_language", "heading_cosine")
LEXICAL_QUERY_FEATURES = ("coverage", "known_weighted")
QUERY_L2 = 10.0


@dataclass(frozen=True)
class Logistic:
    """A fitted logistic regression over named, standardised features."""

    names: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float

    def __call__(self, features: dict[str, float]) -> float:
        """The probability; a feature missing from ``features`` counts as its fitted mean (it
        moves nothing: an index without heading vectors is decided on the other signals)."""
        z = self.intercept
        for name, mu, sd, w in zip(self.names, self.mean, self.scale, self.coef, strict=True):
            z += w * ((features.get(name, mu) - mu) / sd)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def to_json(self) -> dict[str, object]:
        return {"names": list(self.names), "mean": list(self.mean), "scale": list(self.scale),
                "coef": list(self.coef), "intercept": self.intercept}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Logistic:
        return cls(tuple(d["names"]), tuple(d["mean"]), tuple(d["scale"]), tuple(d["coef"]), float(d["intercept"]))

    @classmethod
    def fit(cls, names: Sequence[str], rows: Sequence[dict[str, float]], labels: Sequence[int], l2: float = 1.0) -> Logistic:
        mean, scale, coef, intercept = fit_logistic([[r[n] for n in names] for r in rows], labels, l2=l2)
        return cls(tuple(names), tuple(mean), tuple(scale), tuple(coef), intercept)


@dataclass(frozen=True)
class AnswerModel:
    """``hit``: the probability that a hit's page answers the query (each hit's
    ``confidence``); ``query``: the probability that the help center answers the query at
    all, from its best hit; a search is answered when that reaches ``threshold``."""

    hit: Logistic
    query: Logistic
    threshold: float
    encoder: str = ""

    def confidence(self, features: dict[str, float]) -> float:
        return self.hit(features)

    def answerable(self, top: dict[str, float]) -> float:
        return self.query(top)

    def to_json(self) -> dict[str, object]:
        return {"hit": self.hit.to_json(), "query": self.query.to_json(), "threshold": self.threshold,
                "encoder": self.encoder}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> AnswerModel:
        return cls(Logistic.from_json(d["hit"]), Logistic.from_json(d["query"]), float(d["threshold"]),
                   str(d.get("encoder", "")))


MODEL_FILE = Path(__file__).with_name("data") / "answer_model.json"
BANK_FILE = Path(__file__).with_name("data") / "offtopic_bank.txt"
BANK_VECTORS = Path(__file__).with_name("data") / "offtopic_bank.npz"
SHOP_BANK_FILE = Path(__file__).with_name("data") / "shop_bank.txt"
SHOP_BANK_VECTORS = Path(__file__).with_name("data") / "shop_bank.npz"
_bank_vectors: dict[tuple[str, ...], Any] = {}  # (bank, encoder) or (bank file, vectors file, encoder) -> vectors
_bank_lock = threading.Lock()


def bank_sentences(path: Path = BANK_FILE) -> list[str]:
    """A bank (the off-topic one unless ``path`` names another): one question per line,
    ``#`` comments skipped."""
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def bank_digest(sentences: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(sentences).encode("utf-8")).hexdigest()[:16]


def _encoded_bank(encoder: Any, text: Path, vectors: Path) -> tuple[list[str], Any]:
    """A bank's sentences and their vectors: those shipped in ``vectors`` when ``encoder``
    made them from this very bank (its ``name`` and the bank's digest match), else encoded
    now (seconds). Once per process and encoder: the shop bank is centred on the off-topic
    bank's vectors, which :func:`bank_vectors` has read (or encoded) already. The caller
    holds ``_bank_lock``."""
    import numpy as np

    key = (str(text), str(vectors), encoder.name)
    if key in _bank_vectors:
        return _bank_vectors[key]
    sentences = bank_sentences(text)
    vecs = None
    if vectors.exists():
        with np.load(vectors) as z:
            if str(z["digest"]) == bank_digest(sentences) and encoder.name in z.files:
                vecs = z[encoder.name].astype(np.float32)
    if vecs is None or vecs.shape[1] != encoder.dimension:
        vecs = np.asarray(encoder.encode_queries(sentences), dtype=np.float32)
    _bank_vectors[key] = sentences, vecs
    return sentences, vecs


def _script_means(sentences: Sequence[str], vecs: Any) -> dict[str, Any]:
    from kb_tools.search.analyzer import detect_script

    scripts = [detect_script(t) or "latin" for t in sentences]
    return {sc: vecs[[x == sc for x in scripts]].mean(axis=0) for sc in set(scripts)}


def _centred(sentences: Sequence[str], vecs: Any, means: dict[str, Any]) -> Any:
    from kb_tools.search.analyzer import detect_script

    rows = vecs.copy()
    for i, t in enumerate(sentences):
        mean = means.get(detect_script(t) or "latin")
        if mean is not None:
            rows[i] -= mean
    return rows


def bank_vectors(encoder: Any, path: Path = BANK_VECTORS) -> Any:
    """The off-topic bank encoded as questions by ``encoder``, each row centred on its script's
    mean (Latin, Bengali, Gujarati, Devanagari), so that ``rows @ query`` is the query's cosine
    to each sentence minus its mean cosine to that sentence's script, the way chunk cosines are
    centred per language (the encoder rates any two texts of one language as close). Once per
    process (:func:`_encoded_bank`: the shipped vectors, else encoded now)."""
    with _bank_lock:
        rows = _bank_vectors.get(("offtopic", encoder.name))
        if rows is None:
            sentences, vecs = _encoded_bank(encoder, BANK_FILE, path)
            rows = _centred(sentences, vecs, _script_means(sentences, vecs))
            _bank_vectors[("offtopic", encoder.name)] = rows
        return rows


def shop_bank_vectors(encoder: Any, path: Path = SHOP_BANK_VECTORS) -> Any:
    """The shop bank (data/shop_bank.txt: what shoppers ask any shop's help center) encoded
    by ``encoder``, each row centred on the OFF-TOPIC bank's mean for its script: on one scale
    with :func:`bank_vectors`, so the two banks' best cosines can be compared (centred on its
    own mean, the bank would lose what all its sentences share: being a shop question)."""
    with _bank_lock:
        rows = _bank_vectors.get(("shop", encoder.name))
        if rows is None:
            off, off_vecs = _encoded_bank(encoder, BANK_FILE, BANK_VECTORS)
            sentences, vecs = _encoded_bank(encoder, SHOP_BANK_FILE, path)
            rows = _centred(sentences, vecs, _script_means(off, off_vecs))
            _bank_vectors[("shop", encoder.name)] = rows
        return rows


def heading_vectors(encoder: Any, headings: Sequence[str], vecs: Any) -> Any:
    """Headings encoded as questions (``vecs``, one row per heading), each centred on the
    off-topic bank's mean for its script like the shop bank (:func:`shop_bank_vectors`): a
    question's cosine to them is on the same scale as its cosine to the banks."""
    import numpy as np

    with _bank_lock:
        off, off_vecs = _encoded_bank(encoder, BANK_FILE, BANK_VECTORS)
        means = _script_means(off, off_vecs)
    return _centred(headings, np.asarray(vecs, dtype=np.float32), means)


def write_bank_vectors(encoder: Any, path: Path = BANK_VECTORS, text: Path = BANK_FILE) -> None:
    """Ship a bank's vectors for ``encoder`` (float16: a cosine moves by < 0.001); the
    off-topic bank unless ``text`` names another. Other encoders' vectors of the same bank stay
    in the file (the default encoder and the C engine both find theirs there); a changed bank
    keeps only this encoder's."""
    import numpy as np

    sentences = bank_sentences(text)
    digest = bank_digest(sentences)
    vecs = np.asarray(encoder.encode_queries(sentences), dtype=np.float32)
    kept: dict[str, Any] = {}
    if path.exists():
        with np.load(path) as z:
            if str(z["digest"]) == digest:
                kept = {k: z[k] for k in z.files if k != "digest"}
    kept[encoder.name] = vecs.astype(np.float16)
    np.savez_compressed(path, digest=np.asarray(digest), **kept)
    with _bank_lock:
        _bank_vectors.clear()  # the shop bank's rows are centred on the off-topic bank's means


@cache
def load_models(path: Path = MODEL_FILE) -> dict[str, AnswerModel]:
    """Encoder family -> model (the cosines of two encoders are not on one scale)."""
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {k: AnswerModel.from_json(v) for k, v in data.items()}


def fit_logistic(rows: Sequence[Sequence[float]], labels: Sequence[int], *, l2: float = 1.0,
                 iterations: int = 50) -> tuple[list[float], list[float], list[float], float]:
    """(mean, scale, coefficients, intercept) of an L2-regularised logistic regression fitted
    by Newton's method on standardised features."""
    import numpy as np

    X = np.asarray(rows, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale < 1e-9] = 1.0
    Z = np.hstack([(X - mean) / scale, np.ones((len(X), 1))])
    w = np.zeros(Z.shape[1])
    reg = np.full(Z.shape[1], l2)
    reg[-1] = 0.0  # the intercept is not shrunk
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(Z @ w, -30, 30)))
        grad = Z.T @ (p - y) + reg * w
        hess = (Z * (p * (1 - p))[:, None]).T @ Z + np.diag(reg + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return mean.tolist(), scale.tolist(), w[:-1].tolist(), float(w[-1])


def model_for(encoder: str, path: Path = MODEL_FILE) -> AnswerModel | None:
    """The model for an index built with ``encoder`` (its family: the name up to the version),
    else the lexical-only model (``""``: an index without vectors or another encoder)."""
    models = load_models(path)
    for key, model in models.items():
        if key and encoder.startswith(key):
            return model
    return models.get("")


def hit_features(cands: Any, grouped: Sequence[tuple[int, float]], group_of: Sequence[str],
                 mode: str, hit_langs: Sequence[str] = (), headings: dict[str, float] | None = None,
                 ) -> list[dict[str, float]]:  # fmt: skip
    """The FEATURES and QUERY_SIGNALS of each hit (a page's sections share their page's);
    ``hit_langs`` is the language of each hit's page; ``headings``: each hit's translation
    group -> its ``heading_cosine`` (None without heading vectors: the signal is left out)."""
    semantic = mode != "lexical" and bool(cands.semantic)
    groups = [group_of[cid] for cid, _ in grouped]
    # The best coverage and cosines are read for the hits' groups only (the same maxima over
    # the same candidates: the other ~90 groups' were worked out and never read).
    hit_groups = set(groups)
    best_cov: dict[str, float] = {}
    lex_rank: dict[str, int] = {}
    coverage = cands.coverage
    for cid, _ in cands.lexical:
        g = group_of[cid]
        lex_rank.setdefault(g, len(lex_rank) + 1)
        if g in hit_groups:
            best_cov[g] = max(best_cov.get(g, 0.0), coverage.get(cid, 0.0))
    best_cos: dict[str, float] = {}
    best_cen: dict[str, float] = {}
    if semantic:
        cosine = cands.cosine
        for cid, v in cands.centred.items():
            g = group_of[cid]
            if g in hit_groups:
                best_cen[g] = max(best_cen.get(g, -1.0), v)
                best_cos[g] = max(best_cos.get(g, -1.0), cosine.get(cid, 0.0))
    sem_rank = {g: i for i, (g, _) in enumerate(cands.semantic_pages, 1)} if semantic else {}
    sem_vals = [v for _, v in cands.semantic_pages] if semantic else []
    margin = (sem_vals[0] - sum(sem_vals[1:6]) / max(1, len(sem_vals[1:6]))) if len(sem_vals) > 1 else 0.0
    gap = sem_vals[0] - sem_vals[1] if len(sem_vals) > 1 else 0.0
    top_lex = next(iter(lex_rank), None)
    agree = float(semantic and top_lex is not None and bool(cands.semantic_pages) and cands.semantic_pages[0][0] == top_lex)
    n_words = math.log1p(cands.words)
    lang = cands.query_lang or ""
    latn = float(lang.endswith("-Latn"))
    indic = float(bool(cands.script) and not latn)
    base = lang.split("-")[0]
    order = list(dict.fromkeys(groups))
    scores: dict[str, float] = {}
    for (_, s), g in zip(grouped, groups, strict=True):
        scores.setdefault(g, s)
    out = []
    for j, g in enumerate(groups):
        i = order.index(g)
        nxt = scores[order[i + 1]] if i + 1 < len(order) else 0.0
        out.append({
            "coverage": best_cov.get(g, 0.0),
            "cosine": best_cos.get(g, 0.0) if semantic else 0.0,
            "cosine_centered": best_cen.get(g, 0.0) if semantic else 0.0,
            "best_centered": cands.best_centered if semantic else 0.0,
            "semantic_margin": margin,
            "semantic_gap": gap,
            "lexical_rank": 1.0 / lex_rank[g] if g in lex_rank else 0.0,
            "semantic_rank": 1.0 / sem_rank[g] if g in sem_rank else 0.0,
            "agree": agree,
            "known": cands.known,
            "known_weighted": cands.known_weighted,
            "score_margin": scores[g] - nxt,
            "rank": float(i + 1),
            "words": n_words,
            "indic": indic,
            "latn": latn,
            "cross": float(bool(base) and j < len(hit_langs) and hit_langs[j] != base),
            "offtopic": cands.offtopic if semantic else 0.0,
            "shop": cands.shop if semantic else 0.0,
        })
        f = out[-1]
        f["indic_cosine"] = indic * f["cosine"]
        f["indic_best_centered"] = indic * f["best_centered"]
        f["indic_semantic_margin"] = indic * f["semantic_margin"]
        f["indic_other_language"] = indic * cands.other_language if semantic else 0.0
        if semantic and headings is not None:
            f["heading_cosine"] = headings[g]
    return out
