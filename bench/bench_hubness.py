"""Hubness on the semantic side (issue 10): is "the wrong own-language page on top" a hub, and
does the standard hub reduction help? Measured on the tune split of bench/queries.yaml only.

    .venv/bin/python -m bench.bench_hubness [--k 10] [--cost 10000]

The sample site is indexed with multilingual-e5-small and the labelled queries are encoded
once. Then:

1. **Where the hubs are.** The k-occurrence N5 of every chunk — how often it is among the top 5
   semantic hits (today's centred cosine) of the tune questions not written in the site's
   default language — its skewness (the usual hubness measure: Radovanović et al. 2010,
   "Hubs in space"), and the chunks most often there, next to what CSLS would know of them:
   their r(d) (below) as a percentile among their language's chunks. A reduction built on r(d)
   can only lower a hub whose r(d) is high.
2. **The standard reductions**, each with the answer model refitted on the tune split for it
   (in-sample rates, as bench_relevance prints them, and out-of-fold ones, which a new query
   meets), on top of today's score for a question not in the default language
   (q·(d − μ_lang(d)), the query's cosine centred per chunk language); English questions are
   untouched by every variant, so English and Bitext figures do not move:
   - CSLS (Conneau et al. 2018, "Word translation without parallel data"): 2·cos(q,d) − r(q) −
     r(d) ranks like cos(q,d) − r(d)/2 (r(q) is the same for every chunk of one query), so
     score − β·r(d) with β = 0.5 is CSLS's own weight; r(d) is the mean cosine of d to its k
     nearest chunks outside its own page and translation group (there is no query space to
     take neighbours in: the chunks stand in for it). k = 10 is the paper's.
   - the same in the centred space, per query language L: r_L(d) is the mean of the k highest
     d'·(d − μ_lang(d)) over the chunks d' in language L (L's chunks standing in for L's
     questions), with each (L, chunk language) pair's mean taken off so that the language
     balance the centring set stays;
   - dual centring: also subtract the query language's mean, (q·(d − μ_lang(d)) − w·μ_L·(d −
     μ_lang(d))): CSLS in the centred space with k = every chunk of L.
   β, w and k around the standard values (0.25–1, k 10/50), to show the outcome is not a
   matter of picking them. A last row leaves the chunks with no text of their own out of those
   questions' semantic side (the top hub is one): how much of the effect that kind alone is.
3. ``--cost N``: what computing r(d) once would cost a Searcher loading N chunks (random unit
   vectors of the index's dimension, numpy in blocks of 1,024 rows, one BLAS thread).

4. The same CSLS with a question space: r_L(d) over the site's own headings (each section's
   page title and heading, encoded once as questions), or its page titles alone, in language
   L instead of L's chunks — what a build could store next to the vectors.

Nothing prints a held-out query; ``--heldout`` adds the held-out split's aggregate figures
for today's ranking and for CSLS over either question space at the paper's k = 10, β = 0.5
(chosen before looking at held-out, reported after).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import numpy as np

from bench import bench_relevance as br
from bench.search_common import project_copy, sample_index, table

Penalty = dict[str, np.ndarray]  # query language -> per-chunk penalty (absent: no change)


def searcher_class() -> Any:
    from kb_tools.search import Searcher

    class Penalised(Searcher):  # type: ignore[misc,valid-type]
        """A Searcher whose semantic score of a question in language L is the library's minus
        ``penalty[L]`` of each chunk. The penalty enters as one more vector dimension (the
        query's 1 against the chunk's −penalty, the language means' 0) so the library's own
        ``_semantic`` runs unchanged. The ``cosine`` it reports (an answer-model signal) is put
        back to the plain cosine; the centred one keeps the penalty, as the ranking does."""

        penalty: Penalty = {}
        _lang_now = ""

        def candidates(self, text: str, mode: str, filters: Any = None, query_vector: Any = None) -> Any:
            self._lang_now = self.query_language(text).split("-")[0]
            return super().candidates(text, mode, filters, query_vector)

        def _semantic(self, vector: Any, filters: Any, extra: list[int], n: int = 50, centre: bool = True,
                      lang: str = "") -> Any:
            pen = self.penalty.get(self._lang_now) if centre else None
            if pen is None:
                return super()._semantic(vector, filters, extra, n, centre, lang)
            plain, means = self.vectors, self._lang_means
            try:
                self.vectors = np.hstack([plain, -pen[:, None].astype(np.float32)])
                self._lang_means = np.hstack([means, np.zeros((means.shape[0], 1), dtype=np.float32)])
                out = super()._semantic(np.append(vector, np.float32(1.0)), filters, extra, n, centre, lang)
            finally:
                self.vectors, self._lang_means = plain, means
            out["cosine"] = {i: float(plain[i] @ vector) for i in out["cosine"]}
            return out

    return Penalised


class Space:
    """The index's vectors, languages, pages and translation groups as numpy arrays."""

    def __init__(self, s: Any) -> None:
        s.warm_up()  # loads the model, which computes the per-language means
        self.V = np.asarray(s.vectors, dtype=np.float32)
        self.langs = sorted({c.lang for c in s.chunks})
        self.LI = np.asarray(s._lang_index)
        self.MU = np.asarray(s._lang_means, dtype=np.float32)
        groups = {g: i for i, g in enumerate(dict.fromkeys(s._group_of))}
        pages = {p: i for i, p in enumerate(dict.fromkeys(s._page_of))}
        g = np.asarray([groups[x] for x in s._group_of])
        p = np.asarray([pages[x] for x in s._page_of])
        self.same = (g[:, None] == g[None, :]) | (p[:, None] == p[None, :])  # d' may not be a neighbour of d
        self.default = s._latin_lang or "en"

    def residual(self) -> np.ndarray:
        return self.V - self.MU[self.LI]

    def r_plain(self, k: int) -> np.ndarray:
        """r(d): mean cosine of d to its k nearest chunks outside its page and translation group."""
        S = np.where(self.same, -np.inf, self.V @ self.V.T)
        return _top_k_mean(S, k, axis=1)

    def r_centred(self, k: int, questions: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        """r_L(d) (rows: languages): the mean of the k highest d'·(d − μ_lang(d)) over L's chunks d'
        — or over ``questions`` (vectors, and the chunk each stands for) in language L."""
        Q, of = questions if questions is not None else (self.V, np.arange(len(self.V)))
        S = np.where(self.same[of], -np.inf, Q @ self.residual().T)  # S[d', d]
        lang = self.LI[of]
        return np.vstack([_top_k_mean(S[lang == i], k, axis=0) for i in range(len(self.langs))])

    def question_like(self, s: Any, headings: bool = True) -> tuple[np.ndarray, np.ndarray, float]:
        """Each section's page title and heading (or each page's title alone), encoded as a
        question (the encoder's query side): vectors, the first chunk of each distinct text,
        and the CPU seconds it took."""
        first: dict[str, int] = {}
        for i, c in enumerate(s.chunks):
            first.setdefault(f"{c.title} {c.section}".strip() if headings else c.title.strip(), i)
        texts = list(first)
        cpu = time.process_time()
        Q = np.vstack([s.encoder.encode_queries(texts[i : i + 64]) for i in range(0, len(texts), 64)])
        return np.asarray(Q, dtype=np.float32), np.asarray(list(first.values())), time.process_time() - cpu

    def dual(self) -> np.ndarray:
        """μ_L·(d − μ_lang(d)) (rows: languages)."""
        return self.MU @ self.residual().T

    def per_pair_mean(self, R: np.ndarray) -> np.ndarray:
        """``R`` (rows: query languages) minus the mean of each (query language, chunk language) pair."""
        out = R.copy()
        for i in range(len(self.langs)):
            m = self.LI == i
            out[:, m] -= R[:, m].mean(axis=1, keepdims=True)
        return out

    def by_query_lang(self, R: np.ndarray, weight: float) -> Penalty:
        """The penalty for questions in each non-default language (Hindi, with no pages, gets none)."""
        return {lang: weight * R[i] for i, lang in enumerate(self.langs) if lang != self.default}


def _top_k_mean(S: np.ndarray, k: int, axis: int) -> np.ndarray:
    k = max(1, min(k, S.shape[axis] - 1))
    top = -np.partition(-S, k - 1, axis=axis)
    top = top[:, :k] if axis == 1 else top[:k]
    return np.where(np.isfinite(top), top, 0.0).mean(axis=axis)


def run_variant(s: Any, lab: list[dict[str, Any]], vectors: np.ndarray, penalty: Penalty) -> list[br.Run]:
    s.penalty = penalty
    runs = [br.Run(q, s.candidates(q["q"], "hybrid", query_vector=v)) for q, v in zip(lab, vectors, strict=True)]
    br.rank_all(s, runs, modes=("hybrid",))
    return runs


def figures(s: Any, runs: list[br.Run]) -> list[str]:
    """Tune-split relevance and the decision, the answer model refitted on tune for this ranking."""
    model, oof = br.fit_answer_model(runs, "multilingual-e5-small", "hybrid")
    s.answer_model = model
    tune = [r for r in runs if r.q["split"] == "tune"]
    g = {(kind, lang): br.metrics(part, "hybrid") for kind, lang, part in br.groups(tune)}
    d = br.decision(s, tune)
    xl = g[("cross-lingual", "all")]
    return [f"{xl['mrr']:.3f}", f"{xl['r5']:.3f}", f"{xl['r1']:.3f}"] + [
        f"{g[key]['mrr']:.3f}" for key in (("native", "bn"), ("native", "gu"), ("native", "en"), ("romanized", "all"),
                                           ("code-mixed", "hi"), ("all answerable", "all"))
    ] + [f"{d['declined']:.3f}", f"{d['answered']:.3f}", f"{d['auc']:.3f}", *br.out_of_fold_rates(model, oof)]


def heldout_figures(s: Any, runs: list[br.Run]) -> list[str]:
    s.answer_model = br.fit_answer_model(runs, "multilingual-e5-small", "hybrid")[0]
    held = [r for r in runs if r.q["split"] == "heldout"]
    g = {(kind, lang): br.metrics(part, "hybrid") for kind, lang, part in br.groups(held)}
    d = br.decision(s, held)
    xl = g[("cross-lingual", "all")]
    return [f"{xl['mrr']:.3f}", f"{xl['r5']:.3f}"] + [
        f"{g[key]['mrr']:.3f}" for key in (("native", "bn"), ("native", "gu"), ("romanized", "all"), ("code-mixed", "hi"),
                                           ("all answerable", "all"))
    ] + [f"{d['declined']:.3f}", f"{d['answered']:.3f}", f"{d['auc']:.3f}"]


def hub_report(s: Any, sp: Space, lab: list[dict[str, Any]], vectors: np.ndarray, k: int) -> str:
    """The tune questions' hubs (N5) and where r(d) puts them."""
    n5 = np.zeros(len(s.chunks))
    queries = 0
    for q, v in zip(lab, vectors, strict=True):
        if q["split"] != "tune" or s.query_language(q["q"]).split("-")[0] == sp.default:
            continue
        queries += 1
        centred = sp.V @ v - (sp.MU @ v)[sp.LI]
        n5[np.argsort(-centred)[:5]] += 1
    skew = float(((n5 - n5.mean()) ** 3).mean() / (n5.std() ** 3 or 1.0))
    r = sp.r_plain(k)
    rc = sp.per_pair_mean(sp.r_centred(k)).mean(axis=0)
    du = sp.per_pair_mean(sp.dual()).mean(axis=0)

    def pct(values: np.ndarray, i: int) -> str:
        own = values[sp.LI == sp.LI[i]]
        return f"{100 * float((own < values[i]).mean()):.0f}"

    rows = []
    for i in np.argsort(-n5, kind="stable")[:10]:
        c = s.chunks[int(i)]
        rows.append([c.url[:60], c.lang, len((c.text or "").split()), int(n5[i]), pct(r, int(i)), pct(rc, int(i)), pct(du, int(i))])
    head = (f"{queries} tune questions not in {sp.default}; {len(s.chunks)} chunks; N5 skewness {skew:.1f} "
            f"(0 for no hubs); the top 10 chunks hold {int(np.sort(n5)[-10:].sum())} of {5 * queries} places\n\n")
    return head + table(["chunk", "lang", "words of text", "N5", f"r(d) percentile (k={k})",
                         f"r_L(d) percentile (k={k})", "μ_L·(d−μ) percentile"], rows)


def cost(n: int, dim: int) -> str:
    """CPU and wall seconds of r(d) (k=10) for n random unit vectors, in blocks of 1,024 rows."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    V = rng.standard_normal((n, dim)).astype(np.float32)
    V /= np.linalg.norm(V, axis=1, keepdims=True)
    group = np.arange(n) // 5  # pages of five chunks
    with threadpool_limits(limits=1, user_api="blas"):
        t, c = time.perf_counter(), time.process_time()
        r = np.empty(n, dtype=np.float32)
        for a in range(0, n, 1024):
            S = V[a : a + 1024] @ V.T
            S[group[a : a + 1024, None] == group[None, :]] = -np.inf
            r[a : a + 1024] = -np.partition(-S, 9, axis=1)[:, :10].mean(axis=1)
        wall, cpu = time.perf_counter() - t, time.process_time() - c
    return f"r(d), k=10, for {n} chunks x {dim} dimensions: {wall:.2f} s wall, {cpu:.2f} s CPU (one BLAS thread), {r.nbytes // 1024} KiB kept"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--k", type=int, default=10, help="neighbours for r(d) in the hub table")
    ap.add_argument("--cost", type=int, default=0, help="also time r(d) for this many chunks")
    ap.add_argument("--heldout", action="store_true", help="also the held-out split's figures (for the report, after the choice)")
    args = ap.parse_args()

    lab = br.labelled()
    index_dir = sample_index(project_copy("site-e5"), model=br.ENCODERS["e5"])
    s = searcher_class()(index_dir)
    sp = Space(s)
    texts = []
    for q in lab:
        lang = s.query_language(q["q"])
        texts.append(s.encoder_text(q["q"], lang, s.lexical.build_query(q["q"], lang)))
    vectors = np.vstack([s.encoder.encode_queries(texts[i : i + 64]) for i in range(0, len(texts), 64)])

    print("## Where the hubs are (tune split)\n")
    print(hub_report(s, sp, lab, vectors, args.k))
    variants: list[tuple[str, str, str, Penalty]] = [("none: today's centred cosine", "", "", {})]
    for k in (10, 50):
        r = sp.r_plain(k)
        rl = sp.per_pair_mean(sp.r_centred(k))
        for beta in (0.25, 0.5, 1.0):
            variants.append(("CSLS, chunk neighbours", str(k), str(beta),
                             {lang: beta * r for lang in sp.langs if lang != sp.default}))
        for beta in (0.25, 0.5, 1.0):
            variants.append(("CSLS, centred, per query language", str(k), str(beta), sp.by_query_lang(rl, beta)))
    du = sp.dual()
    for w in (0.25, 0.5, 1.0):
        variants.append(("dual centring", "all", str(w), sp.by_query_lang(du, w)))
    spaces = {"headings": sp.question_like(s), "page titles": sp.question_like(s, headings=False)}
    for what, (Q, of, _) in spaces.items():
        for k in (10, 50):
            rq = sp.per_pair_mean(sp.r_centred(k, (Q, of)))
            for beta in (0.25, 0.5, 1.0):
                variants.append((f"CSLS, centred, the site's {what} as questions", str(k), str(beta), sp.by_query_lang(rq, beta)))
    # Not a hub reduction: how much of it is the top hub's kind alone, a chunk with no text of
    # its own (a heading followed by another heading or by what the chunker keeps no text of).
    empty = np.asarray([np.inf if not (c.text or "").strip() else 0.0 for c in s.chunks])
    variants.append(("chunks with no text left out", "", "", {lang: empty for lang in sp.langs if lang != sp.default}))
    rows = []
    for name, k_, beta, pen in variants:
        t = time.perf_counter()
        rows.append([name, k_, beta] + figures(s, run_variant(s, lab, vectors, pen)))
        print(f"{name} k={k_} weight={beta}: {time.perf_counter() - t:.1f} s", file=sys.stderr)
    print("\n## Hub reduction on the tune split (answer model refitted on tune for each row)\n")
    print(table(["reduction", "k", "β / w", "cross-lingual MRR@10", "cross-lingual recall@5", "cross-lingual recall@1",
                 "native bn", "native gu", "native en", "romanized", "code-mixed", "all answerable",
                 "no-answer declined", "answerable answered", "ROC AUC",
                 "declined (out-of-fold)", "answered (out-of-fold)", "AUC (out-of-fold)"], rows))
    for what, (Q, _, q_cpu) in spaces.items():
        print(f"\nThe {what} as questions: {len(Q)} distinct texts for {len(s.chunks)} chunks, encoded in {q_cpu:.1f} s CPU")
    if args.heldout:
        # For the report only, after the choice: today's ranking against CSLS with the paper's
        # k and weight over each question space, the answer model fitted on tune for each.
        rows = [["none: today's centred cosine"] + heldout_figures(s, run_variant(s, lab, vectors, {}))]
        for what, (Q, of, _) in spaces.items():
            pen = sp.by_query_lang(sp.per_pair_mean(sp.r_centred(10, (Q, of))), 0.5)
            rows.append([f"CSLS, centred, the site's {what} as questions (10, 0.5)"]
                        + heldout_figures(s, run_variant(s, lab, vectors, pen)))
        print("\n## The held-out split (nothing above was chosen on it)\n")
        print(table(["reduction", "cross-lingual MRR@10", "cross-lingual recall@5", "native bn", "native gu",
                     "romanized", "code-mixed", "all answerable", "no-answer declined", "answerable answered", "ROC AUC"], rows))
    if args.cost:
        print("\n" + cost(args.cost, sp.V.shape[1]))


if __name__ == "__main__":
    main()
