"""A learned reader from the encoder's vectors: does the question's vector and its first hit's
best section's vector say more about "this page answers this question" than their cosine?

    .venv/bin/python -m bench.bench_reader [--bootstrap 500]

The answer decision (kb_tools/search/answer.py) reads a few scalar signals of the first hit; the
on-topic questions a shop does not answer (round 12: "do you deliver at midnight" beside a
delivery page) sit with the answerable ones on every one of them (rounds 12-14). No cross-encoder
ships offline, so this bench asks whether the e5 vectors the search has already computed carry
the missing reading: for each searched question (the sample's tune and held-out splits, the shops
of bench_shops.FIT_SHOPS and phool) it keeps the question's vector ``q`` and the centred vector
``s`` of the first hit's best section (the chunk vector minus its language's mean, the section
the centred cosine picked), then refits the query model with extra inputs made from them:

- ``pca K <pair>``: the first K principal components of a pair vector (q*s elementwise, |q-s|,
  q-s), fitted on the training shops only, added to answer.QUERY_FEATURES;
- controls: the same of ``q`` alone, ``|q|`` alone and ``s`` alone (what a pair feature owes to
  the question's own vector, i.e. to the kind of question it is, and not to the page);
- ``reader <pair>``: a strongly regularised logistic regression on the whole pair vector, fitted
  on the training questions (no-answer against answerable), its log-odds added as one signal
  (out-of-fold on the training questions, so the query model does not see it in-sample);
- ``hit reader <pair>``: the same fitted on (question, page) pairs of the training questions' top
  five pages, labelled whether that page answers: the "does this passage answer this question"
  reader, learned from the pages the search puts near each question.

Everything is judged the way bench_shops judges the shipped signals, never in-sample: each of the
sample's tune split, tulip, bazaar and ghor left out (fitted on the other three), and fitted on
all four, phool and the sample's held-out split. Each cell: no-answer declined / answerable
answered / ROC AUC at the cut picked on 5-fold out-of-fold probabilities of the training
questions (bench_relevance._threshold). A second table gives what needs no cut: each shop's
no-answer questions declined at the cut (on its own probabilities) that answers 95 % of its
answerable ones, and, with the sample left out, how many of round 12's 32 on-topic unanswered
questions are declined and of its 24 answerable ones answered. With ``--bootstrap N``, the left-out AUC gain over the
shipped signals with a 95 % paired-bootstrap interval (questions resampled within each shop), in
the mean and for each shop. Nothing here changes the product.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.bench_relevance import Run, _threshold, labelled, page
from bench.bench_shops import FIT_SHOPS, shop_runs
from bench.bench_transfer import E5, searched
from bench.search_common import WORK, project_copy, sample_index, table

LEFT_OUT = ("sample", *FIT_SHOPS)  # each left out in turn, fitted on the others
NEVER = ("phool", "heldout")  # fitted on none: the model fitted on all of LEFT_OUT


@dataclass
class Question:
    """One searched question: its first hit's query features, the question's vector, the centred
    vector of the first hit's best section and those of its top five pages (label: answers)."""

    q: str
    has: bool  # answerable
    ok: bool  # the search had a first hit with features and the query has a letter or digit
    f: dict[str, float]
    qv: Any = None
    sv: Any = None
    hits: list[tuple[int, Any]] | None = None


def questions(searcher: Any, runs: list[Run], pages: int = 5) -> list[Question]:
    """``runs`` as :class:`Question` s: the centred vector of each of the top ``pages`` pages'
    best section (the one whose centred cosine to the question is highest)."""
    searcher.warm_up()
    cid_of = {u: i for i, u in enumerate(searcher._url_of)}
    rows_of: dict[str, list[int]] = {}
    for i, g in enumerate(searcher._group_of):
        rows_of.setdefault(g, []).append(i)
    vectors = np.asarray(searcher.vectors, dtype=np.float32)
    means = searcher._lang_means
    out = []
    for r in runs:
        v, hits = r.cands.vector, r.hits.get("hybrid")
        has = bool(r.q["expect"])
        if v is None or not hits or not r.features or not any(ch.isalnum() for ch in r.q["q"]):
            out.append(Question(r.q["q"], has, False, {}))
            continue
        expect = {e.strip("/") for e in r.q["expect"]}
        tops: list[tuple[int, Any]] = []
        seen: set[str] = set()
        for h in hits:
            g = searcher._group_of[cid_of[h.url]]
            if g in seen:
                continue
            seen.add(g)
            rows = np.asarray(rows_of[g])
            lang = searcher._lang_index[rows]
            best = int(rows[np.argmax(vectors[rows] @ v - (means @ v)[lang])])
            tops.append((int(page(h.url) in expect), vectors[best] - means[searcher._lang_index[best]]))
            if len(tops) == pages:
                break
        out.append(Question(r.q["q"], has, True, dict(r.features[0]), np.asarray(v, dtype=np.float32), tops[0][1], tops))
    return out


def roc_auc(pos: Sequence[float], neg: Sequence[float]) -> float:
    """bench_relevance.roc_auc by ranks (ties count half): the bootstrap calls it thousands of times."""
    from scipy.stats import rankdata

    p, n = np.asarray(pos, dtype=float), np.asarray(neg, dtype=float)
    if not len(p) or not len(n):
        return float("nan")
    ranks = rankdata(np.concatenate([p, n]))
    return float((ranks[: len(p)].sum() - len(p) * (len(p) + 1) / 2) / (len(p) * len(n)))


def _fit(X: Any, y: Any, l2: float) -> Callable[[Any], Any]:
    from kb_tools.search.answer import fit_logistic

    mean, scale, coef, b = (np.asarray(a) for a in fit_logistic(X, y, l2=l2))
    return lambda Z: 1.0 / (1.0 + np.exp(-np.clip(((np.asarray(Z) - mean) / scale) @ coef + b, -30, 30)))


def _folds(n: int, k: int = 5, seed: int = 0) -> Any:
    f = np.arange(n) % k
    np.random.default_rng(seed).shuffle(f)
    return f


def _oof(X: Any, y: Any, l2: float) -> Any:
    f, out = _folds(len(y)), np.zeros(len(y))
    for k in range(5):
        out[f == k] = _fit(X[f != k], y[f != k], l2)(X[f == k])
    return out


def _logit(p: Any) -> Any:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


PAIRS: dict[str, Callable[[Any, Any], Any]] = {
    "q*s": lambda q, s: q * s,
    "|q-s|": lambda q, s: np.abs(q - s),
    "q-s": lambda q, s: q - s,
    "q": lambda q, s: q,  # controls: the question alone ...
    "|q|": lambda q, s: np.abs(q),
    "s": lambda q, s: s,  # ... the page alone
}
Maker = Callable[[list[Question]], Callable[[list[Question]], Any]]


def pca(pair: str, k: int) -> Maker:
    """K principal components of ``pair`` (fitted on the training questions only)."""
    fn = PAIRS[pair]

    def make(train: list[Question]) -> Callable[[list[Question]], Any]:
        Z = np.asarray([fn(x.qv, x.sv) for x in train])
        mu = Z.mean(axis=0)
        W = np.linalg.svd(Z - mu, full_matrices=False)[2][:k].T
        return lambda xs: (np.asarray([fn(x.qv, x.sv) for x in xs]) - mu) @ W
    return make


def reader(pair: str, l2: float, hits: bool = False) -> Maker:
    """A logistic regression on the whole ``pair`` vector, one signal (its log-odds): fitted on
    the training questions (answerable or not), or with ``hits`` on their top pages (answers or
    not). The training questions' own values are out-of-fold."""
    fn = PAIRS[pair]

    def make(train: list[Question]) -> Callable[[list[Question]], Any]:
        first = np.asarray([fn(x.qv, x.sv) for x in train])
        if hits:
            X = np.asarray([fn(x.qv, s) for x in train for _, s in x.hits or []])
            y = np.asarray([lab for x in train for lab, _ in x.hits or []])
            owner = np.asarray([i for i, x in enumerate(train) for _ in x.hits or []])
        else:
            X, y, owner = first, np.asarray([int(x.has) for x in train]), np.arange(len(train))
        fold = _folds(len(train))
        inner = np.zeros(len(train))
        for k in range(5):
            inner[fold == k] = _fit(X[fold[owner] != k], y[fold[owner] != k], l2)(first[fold == k])
        model = _fit(X, y, l2)

        def values(xs: list[Question]) -> Any:
            if xs is train:
                return _logit(inner)[:, None]
            return _logit(model(np.asarray([fn(x.qv, x.sv) for x in xs])))[:, None]
        return values
    return make


VARIANTS: dict[str, Maker | None] = {
    "shipped signals (refit)": None,
    "+ pca 4 q*s": pca("q*s", 4), "+ pca 16 q*s": pca("q*s", 16),
    "+ pca 8 |q-s|": pca("|q-s|", 8), "+ pca 16 |q-s|": pca("|q-s|", 16), "+ pca 16 q-s": pca("q-s", 16),
    "+ pca 16 q (control)": pca("q", 16), "+ pca 16 |q| (control)": pca("|q|", 16), "+ pca 16 s (control)": pca("s", 16),
    "+ reader q*s (L2 30)": reader("q*s", 30), "+ reader q*s (L2 300)": reader("q*s", 300),
    "+ reader |q-s| (L2 300)": reader("|q-s|", 300),
    "+ hit reader |q-s| (L2 10)": reader("|q-s|", 10, hits=True), "+ hit reader |q-s| (L2 100)": reader("|q-s|", 100, hits=True),
    "+ hit reader q*s (L2 100)": reader("q*s", 100, hits=True),
}


def decide(maker: Maker | None, train: list[Question], test: list[Question]) -> tuple[Any, float]:
    """The query model (answer.QUERY_FEATURES, + ``maker``'s inputs) fitted on ``train``, its cut
    on 5-fold out-of-fold probabilities there: ``test``'s probabilities and the cut."""
    from kb_tools.search.answer import QUERY_FEATURES, QUERY_L2

    Xtr = np.asarray([[x.f.get(n, 0.0) for n in QUERY_FEATURES] for x in train])
    Xte = np.asarray([[x.f.get(n, 0.0) for n in QUERY_FEATURES] for x in test])
    if maker is not None:
        extra = maker(train)
        Xtr, Xte = np.hstack([Xtr, extra(train)]), np.hstack([Xte, extra(test)])
    y = np.asarray([int(x.has) for x in train])
    cut = _threshold(list(zip(_oof(Xtr, y, QUERY_L2).tolist(), y.astype(bool).tolist(), strict=True)))
    return _fit(Xtr, y, QUERY_L2)(Xte), cut


def measured(parts: dict[str, list[Question]], maker: Maker | None) -> dict[str, tuple[float, float, float, Any, Any, float]]:
    """Each part -> (declined, answered, AUC, probabilities of its usable questions, their labels, cut);
    a question without a hit (or a letter) is declined, as the searcher declines it."""
    out = {}
    for name in (*LEFT_OUT, *NEVER):
        train = [x for o in LEFT_OUT if o != name for x in parts[o] if x.ok]
        test = [x for x in parts[name] if x.ok]
        p, cut = decide(maker, train, test)
        y = np.asarray([x.has for x in test])
        n_none = sum(not x.has for x in parts[name])
        n_ans = sum(x.has for x in parts[name])
        declined = (n_none - int((p[~y] >= cut).sum())) / max(1, n_none)
        answered = int((p[y] >= cut).sum()) / max(1, n_ans)
        out[name] = (declined, answered, roc_auc(p[y], p[~y]), p, y, cut)
    return out


def declined_at(p: Any, y: Any, answered: float = 0.95) -> float:
    """No-answer questions declined at the cut that answers ``answered`` of the answerable ones."""
    pos = np.sort(p[y])
    return float((p[~y] < pos[int(np.floor((1 - answered) * len(pos)))]).mean())


def round12(parts: dict[str, list[Question]], m: dict[str, Any], cut: float) -> str:
    """Round 12's questions in the sample left out: hard no-answer declined, answerable answered."""
    from bench.bench_sentences import round12_questions

    block = round12_questions()
    test = [x for x in parts["sample"] if x.ok]
    p = m["sample"][3]
    hard = [i for i, x in enumerate(test) if x.q in block and not x.has]
    easy = [i for i, x in enumerate(test) if x.q in block and x.has]
    return f"{sum(p[i] < cut for i in hard)}/{len(hard)} declined, {sum(p[i] >= cut for i in easy)}/{len(easy)} answered"


def bootstrap(base: dict[str, Any], other: dict[str, Any], draws: int, seed: int = 1) -> dict[str, tuple[float, float, float]]:
    """The left-out AUC gain of ``other`` over ``base`` (each shop and their mean): mean and 95 %
    interval over ``draws`` paired resamplings of each shop's questions."""
    rng = np.random.default_rng(seed)
    gains: dict[str, list[float]] = {n: [] for n in (*LEFT_OUT, "mean")}
    for _ in range(draws):
        for name in LEFT_OUT:
            y = base[name][4]
            idx = rng.integers(0, len(y), len(y))
            yy = y[idx]
            a, b = base[name][3][idx], other[name][3][idx]
            gains[name].append(roc_auc(b[yy], b[~yy]) - roc_auc(a[yy], a[~yy]))
        gains["mean"].append(float(np.mean([gains[n][-1] for n in LEFT_OUT])))
    return {n: (float(np.mean(g)), float(np.percentile(g, 2.5)), float(np.percentile(g, 97.5))) for n, g in gains.items()}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--variants", default="", help="comma-separated names of VARIANTS (default: all)")
    ap.add_argument("--bootstrap", type=int, default=500, help="paired bootstrap draws of the left-out AUC gain (0: none)")
    args = ap.parse_args(argv)
    wanted = [v for v in args.variants.split(",") if v] or list(VARIANTS)
    load, t = os.getloadavg(), time.perf_counter()
    sample, runs = searched(sample_index(project_copy("site-e5"), model=E5), labelled())
    parts = {"sample": questions(sample, [r for r in runs if r.q["split"] == "tune"]),
             "heldout": questions(sample, [r for r in runs if r.q["split"] == "heldout"])}
    for name, (searcher, shop) in shop_runs([*FIT_SHOPS, "phool"], WORK).items():
        parts[name] = questions(searcher, shop)
    print("# A learned reader from the encoder's vectors\n")
    print(f"Load average before the run {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}. Each cell: no-answer declined / "
          "answerable answered / ROC AUC; left out: fitted on the other three of " + ", ".join(LEFT_OUT) + "; phool "
          "and held-out: fitted on all four.\n")
    base = measured(parts, None)
    rows, gains, cutless = [], [], []
    for name in wanted:
        m = base if VARIANTS[name] is None else measured(parts, VARIANTS[name])
        mean = np.mean([m[s][:3] for s in LEFT_OUT], axis=0)
        rows.append([name, "/".join(f"{v:.3f}" for v in mean),
                     *("/".join(f"{v:.3f}" for v in m[s][:3]) for s in (*LEFT_OUT, *NEVER))])
        cutless.append([name, *(f"{declined_at(m[s][3], m[s][4]):.3f}" for s in (*LEFT_OUT, *NEVER)),
                        round12(parts, m, m["sample"][5])])
        if args.bootstrap and VARIANTS[name] is not None:
            b = bootstrap(base, m, args.bootstrap)
            gains.append([name, *(f"{g:+.4f} [{lo:+.4f}, {hi:+.4f}]" for g, lo, hi in (b[s] for s in ("mean", *LEFT_OUT)))])
    print(table(["query model", "left-out mean", *(f"{s} left out" for s in LEFT_OUT), *NEVER], rows))
    print("\n## No-answer declined at 95 % answered (each shop's own cut), round 12's questions (sample left out)\n")
    print(table(["query model", *LEFT_OUT, *NEVER, "round 12: 32 on-topic unanswered, 24 answerable"], cutless))
    if gains:
        print(f"\n## Left-out AUC gain over the shipped signals (paired bootstrap, {args.bootstrap} draws, 95 %)\n")
        print(table(["query model", "mean", *LEFT_OUT], gains))
    print(f"\n{time.perf_counter() - t:.0f} s, load after {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
