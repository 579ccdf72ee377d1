"""Sentence-level evidence for the answer decision: does one sentence of the first hit's page
tell a question the shop answers from one it does not answer on its own topics?

    .venv/bin/python -m bench.bench_sentences [--subsites] [--signals sentence_cosine,...]

Round 12 wrote 32 tune questions a shop does not answer on its own topics ("do you deliver at
midnight" beside a delivery page) and 24 answerable ones of the same shape ("do you deliver on
friday", which a sentence of the shipping page states): on every signal the decision reads they
sit with the answerable questions. The hypothesis measured here: an answerable question has a
*sentence* on its page that states the answer, an unanswered one a page about its topic but no
sentence about its specific constraint (midnight, red, trade-in), and section-level cosines
average that away. For each searched question (the sample, the shops of bench_shops.FIT_SHOPS,
and with ``--subsites`` each of them with most pages removed) this bench reads the first hit's
page and its translations split into sentences (:func:`sentences`), encodes each sentence once
(cached by text under bench/results/search) and adds to the first hit's features:

- ``sentence_cosine``: the best cosine of the question to one sentence, as the encoder reads a
  question against a passage, centred per language like ``cosine_centered`` (minus the question's
  mean cosine to the chunks of the sentence's language);
- ``window_cosine``: the same over single sentences and windows of two;
- ``sentence_minus_section``: sentence_cosine minus the section-level cosine_centered (how much
  one sentence stands out);
- ``sentence_question``: the best cosine to one sentence encoded as a question (question to
  question, like heading_cosine, centred on the off-topic bank's script means);
- ``rare_word_sentence`` / ``rare_word_page``: 1 when the question's rarest matched word (fewest
  chunks, as the lexical side reads it: analyser, synonyms, romanized reading) is in the best
  sentence / in any sentence of the page.

It prints each signal's ROC AUC alone (the round-12 56, each shop, the held-out split), then for
each signal the query model refitted with it (bench_shops' tables: each shop left out, sub-sites,
the held-out split never fitted on) beside the shipped signals. Nothing here changes the product.
"""

from __future__ import annotations

import argparse
import os
import pickle
import re
import sys
import time
from pathlib import Path
from typing import Any

from bench.bench_relevance import HERE, Run, fit_answer_model, labelled, model_key, roc_auc
from bench.bench_shops import FIT_SHOPS, SAMPLE, as_tune, leave_one_out, rates, shop_runs
from bench.bench_transfer import E5, searched
from bench.search_common import WORK, project_copy, sample_index, table
from bench.subsites import VectorCache, subsites

SIGNALS = ("sentence_cosine", "window_cosine", "sentence_minus_section", "sentence_question", "rare_word_sentence",
           "rare_word_page")
SPLIT = re.compile(r"(?<=[.!?।॥])\s+|\n+")
ROUND12 = "# --- Round 12 (engineer decline)"


def sentences(text: str) -> list[str]:
    """A chunk's sentences: split after . ! ? । ॥ and at line breaks, fragments under 8
    characters left out (a table row or a list item is one sentence)."""
    return [s.strip() for s in SPLIT.split(text or "") if len(s.strip()) >= 8]


def round12_questions(path: Path = HERE / "queries.yaml") -> set[str]:
    """The 56 questions of bench/queries.yaml's round-12 block (engineer decline)."""
    import yaml

    lines = path.read_text(encoding="utf-8").splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(ROUND12)), None)
    if start is None:
        sys.exit(f"{path}: no line starts with {ROUND12!r} (the round 12 block this bench reports on): "
                 "restore it or pass the labelled set that has it")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("# ---")), len(lines))
    return {yaml.safe_load(line)[0]["q"] for line in lines[start:end] if line.startswith("- {")}


class SentenceCache:
    """Sentence vectors by text and form (passage or question), kept in one pickle per encoder."""

    def __init__(self, encoder: Any, work: Path) -> None:
        self.encoder = encoder
        self.path = work / f"sentences-{encoder.name.replace('/', '_')}.pkl"
        self.vectors: dict[tuple[str, bool], Any] = pickle.loads(self.path.read_bytes()) if self.path.exists() else {}

    def get(self, texts: list[str], *, query: bool) -> Any:
        import numpy as np

        todo = list(dict.fromkeys(t for t in texts if (t, query) not in self.vectors))
        for i in range(0, len(todo), 64):
            part = todo[i : i + 64]
            vecs = self.encoder.encode_queries(part) if query else self.encoder.encode_passages(part)
            self.vectors.update({(t, query): v for t, v in zip(part, vecs, strict=True)})
        if todo:
            self.path.write_bytes(pickle.dumps(self.vectors))
        return np.asarray([self.vectors[(t, query)] for t in texts], dtype=np.float32).reshape(len(texts), -1)


def add_signals(searcher: Any, runs: list[Run], cache: SentenceCache | None = None) -> None:
    """Each run's first hit gets the SIGNALS of its page (and translations) in its features."""
    import numpy as np

    from kb_tools.search.analyzer import terms
    from kb_tools.search.answer import heading_vectors

    searcher.warm_up()
    cache = cache or SentenceCache(searcher.encoder, WORK)
    texts, lang, group, single, words = [], [], [], [], []
    for cid, c in enumerate(searcher.chunks):
        ss = sentences(c.text)
        for i, s in enumerate(ss):
            for text, one in ((s, True), *(((f"{s} {ss[i + 1]}", False),) if i + 1 < len(ss) else ())):
                texts.append(text)
                lang.append(searcher._lang_index[cid])
                group.append(searcher._group_of[cid])
                single.append(one)
                words.append(set(terms(text)))
    passages = cache.get(texts, query=False)
    is_one = np.asarray(single, dtype=bool)
    questions = np.zeros_like(passages)
    ones = [t for t, one in zip(texts, single, strict=True) if one]
    questions[is_one] = heading_vectors(searcher.encoder, ones, cache.get(ones, query=True))
    lang_of = np.asarray(lang, dtype=np.int64)
    rows_of: dict[str, list[int]] = {}
    for i, g in enumerate(group):
        rows_of.setdefault(g, []).append(i)
    cid_of = {u: i for i, u in enumerate(searcher._url_of)}
    for r in runs:
        v, hits = r.cands.vector, r.hits.get("hybrid")
        if v is None or not hits or not r.features:
            continue
        f = r.features[0]
        rows = np.asarray(rows_of.get(searcher._group_of[cid_of[hits[0].url]], []), dtype=np.int64)
        if not rows.size:  # a page without a sentence (a video's title): the section stands for it
            f.update(sentence_cosine=f["cosine_centered"], window_cosine=f["cosine_centered"], sentence_minus_section=0.0,
                     sentence_question=f.get("heading_cosine", 0.0), rare_word_sentence=0.0, rare_word_page=0.0)
            continue
        centred = passages[rows] @ v - (searcher._lang_means @ v)[lang_of[rows]]
        one = is_one[rows]
        best = int(rows[one][np.argmax(centred[one])]) if one.any() else int(rows[np.argmax(centred)])
        f["sentence_cosine"] = float(centred[one].max()) if one.any() else float(centred.max())
        f["window_cosine"] = float(centred.max())
        f["sentence_minus_section"] = f["sentence_cosine"] - f["cosine_centered"]
        f["sentence_question"] = float((questions[rows[one]] @ v).max()) if one.any() else 0.0
        lq = searcher.lexical.build_query(r.q["q"], r.cands.query_lang)
        matched = sorted(t for t in lq.terms if t)
        rare = min(matched, key=lambda t: searcher.lexical.vocab.get(t, 0)) if matched else None
        f["rare_word_sentence"] = float(rare is not None and rare in words[best])
        f["rare_word_page"] = float(rare is not None and any(rare in words[i] for i in rows))


def signal_auc(runs: list[Run], name: str, model: Any = None) -> str:
    """ROC AUC of one signal (or of ``model``'s probability) alone: answerable against not."""
    tops = [(r.features[0], bool(r.q["expect"])) for r in runs if r.features and any(ch.isalnum() for ch in r.q["q"])]
    value = model.answerable if model is not None else (lambda f: f.get(name, 0.0))
    auc = roc_auc([value(f) for f, has in tops if has], [value(f) for f, has in tops if not has])
    return f"{auc:.3f}"


def main(argv: list[str] | None = None) -> None:
    from kb_tools.search import answer

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--signals", default=",".join(SIGNALS), help="comma-separated, of: " + ", ".join(SIGNALS))
    ap.add_argument("--subsites", action="store_true", help="also each shop left out with pages removed (bench/subsites.py)")
    ap.add_argument("--work", type=Path, default=WORK)
    args = ap.parse_args(argv)
    wanted = [s for s in args.signals.split(",") if s]
    load, t = os.getloadavg(), time.perf_counter()

    sample, sample_runs = searched(sample_index(project_copy("site-e5"), model=E5), labelled())
    cache = SentenceCache(sample.encoder, args.work)
    add_signals(sample, sample_runs, cache)
    key = model_key(sample)
    tune = [r for r in sample_runs if r.q["split"] == "tune"]
    heldout = [r for r in sample_runs if r.q["split"] == "heldout"]
    shops = shop_runs(list(FIT_SHOPS), args.work)
    for searcher, runs in shops.values():
        add_signals(searcher, runs, cache)
    fitted = {SAMPLE: (sample, tune), **shops}
    subsites_of = {}
    if args.subsites:
        vectors = VectorCache()
        for name, (searcher, runs) in fitted.items():
            subsites_of[name] = subsites(name, searcher.index_dir, [r.q for r in runs], args.work, vectors)
            for site in subsites_of[name]:
                add_signals(site.searcher, site.runs, cache)

    r12 = round12_questions()
    shipped = sample.answer_model
    print("# Sentence-level evidence for the answer decision\n")
    print(f"Load average before the run {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}.\n")
    print("## Each signal alone: ROC AUC, answerable against not\n")
    parts = [("round-12 56", [r for r in tune if r.q["q"] in r12]), *((n, rs) for n, (_, rs) in fitted.items()),
             ("sample (held-out)", heldout)]
    rows = [["shipped model", *(signal_auc(rs, "", shipped) for _, rs in parts)]]
    rows += [[s, *(signal_auc(rs, s) for _, rs in parts)] for s in ("cosine_centered", "heading_cosine", *wanted)]
    print(table(["signal", *(n for n, _ in parts)], rows))
    alone = fit_answer_model(tune, key)[0]
    for names in [answer.QUERY_FEATURES, *((*answer.QUERY_FEATURES, s) for s in wanted)]:
        label = "the shipped signals" if names == answer.QUERY_FEATURES else f"+ {names[-1]}"
        print(f"\n## Leave one shop out, the query model with {label}\n")
        leave_one_out(fitted, key, alone, subsites_of, tuple(names))
        everything = [r for _, (_, rs) in fitted.items() for r in as_tune(rs)]
        together = fit_answer_model(everything, key, query_features=tuple(names))[0]
        print("\nFitted on all, never fitted on: sample (held-out) " + " / ".join(rates(sample, heldout, together))
              + "; in-sample tune " + " / ".join(rates(sample, tune, together)) + f"; cut {together.threshold:.3f}")
    print(f"\n{time.perf_counter() - t:.0f} s")


if __name__ == "__main__":
    main()
