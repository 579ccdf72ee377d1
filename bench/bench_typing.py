"""A question as a phone types it: the labelled questions typed with a capital first letter,
in capitals, with an emoji, "pls", "!!!" or a chat greeting (README › Search › Relevance,
"Round 18"), or in a hurry: a key off, two letters swapped, a letter or a space left out, no
vowels in long words ("Round 20"), against the same questions as written.

    .venv/bin/python -m bench.bench_typing [--sites sample,tulip,...] [--variants CAPS,hi,]
    .venv/bin/python -m bench.bench_typing --readings [--sites ...]

Every labelled question written in English or in Latin letters (Banglish, romanized Gujarati,
Hinglish) of the sample (bench/queries.yaml, both splits) and of the shops in bench/sites/ (their
queries.yaml and tune.yaml) is searched as typed and as each variant, hybrid, through
``Searcher.search``: the same path a shopper's question takes. A cell is one site's questions
of one kind of writing; the table gives, for each variant, all its questions' MRR@10 and
answered share, the mean change of the cells against as typed, and the cell that lost the most
answers. The labelled questions are written plainly, so the bench's other tables cannot see
what the way of typing costs; this one does. Each shop's index is built as bench_transfer
builds it (the first run takes minutes).

``--readings`` ("Round 21") lists instead every word search reads as another in every labelled
question as typed (any writing, answerable or not, and the sample's chat messages): a slip put
right or a word cut in two, which for a question typed right is a rule's cost; and counts how
the glued words of "a space missing" are cut, right (as the question was written), wrong or not.
"""

from __future__ import annotations

import argparse
import re
import zlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.bench_relevance import labelled, rank_of
from bench.bench_transfer import SITES, build_site
from bench.search_common import WORK, project_copy, sample_index, table

SHOPS = ("tulip", "bazaar", "ghor", "phool", "medico", "boipara", "chaka")
KINDS = ("en", "bn-Latn", "gu-Latn", "hi-Latn")  # how the question is written (its `lang`)
VARIANTS: dict[str, Callable[[str], str]] = {
    "as typed": lambda q: q,
    "Capital first": lambda q: q[:1].upper() + q[1:],
    "CAPS": str.upper,
    "emoji": lambda q: q + " 🙏",
    "pls": lambda q: q + " pls",
    "!!!": lambda q: q + "!!!",
    "hi,": lambda q: "hi, " + q,
    "Hello sir": lambda q: "Hello sir " + q,
}
# A question typed in a hurry (round 20): one slip of the thumb in the question's longest word,
# a space left out, or the vowels left out of long words as SMS writes them ("ordr", "rfnd").
# Where the slip falls is fixed by the question's text (crc32), so every run types it the same.
QWERTY = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def _spot(q: str, n: int) -> int:
    """A position in 0..n-1 fixed by the question's text."""
    return zlib.crc32(q.encode()) % n if n > 0 else 0


def _longest(q: str) -> tuple[int, int] | None:
    """The start and end of the question's longest ASCII word of four letters or more."""
    words = [m.span() for m in re.finditer(r"[a-z]{4,}", q)]
    return max(words, key=lambda s: s[1] - s[0]) if words else None


def _neighbour(c: str) -> str:
    """A key beside ``c`` on the same QWERTY row (the one to its right, at a row's end its left)."""
    for row in QWERTY:
        if c in row:
            i = row.index(c)
            return row[i + 1] if i + 1 < len(row) else row[i - 1]
    return c


def _slip(q: str, how: str) -> str:
    """``q`` with one slip in its longest word, never on its first letter: a key off, two
    letters swapped or a letter missing."""
    span = _longest(q)
    if span is None:
        return q
    a, b = span
    i = a + 1 + _spot(q, b - a - 2)  # an inner letter: not the first, not the last
    if how == "key":
        return q[:i] + _neighbour(q[i]) + q[i + 1:]
    if how == "swap":
        return q[:i] + q[i + 1] + q[i] + q[i + 2:]
    return q[:i] + q[i + 1:]


def _space_left_out(q: str) -> int | None:
    """The place of the space of ``q`` that "a space missing" leaves out, None when it has none."""
    spaces = [m.start() for m in re.finditer(" ", q.strip())]
    return spaces[_spot(q, len(spaces))] if spaces else None


def _no_space(q: str) -> str:
    """``q`` with one of its spaces left out."""
    i = _space_left_out(q)
    return q if i is None else q[:i] + q[i + 1:]


def _sms(q: str) -> str:
    """Every ASCII word of five letters or more without the vowels after its first letter."""
    return re.sub(r"\b([a-z])([a-z]{4,})\b", lambda m: m[1] + re.sub("[aeiou]", "", m[2]), q)


VARIANTS |= {
    "a key off": lambda q: _slip(q, "key"),
    "two letters swapped": lambda q: _slip(q, "swap"),
    "a letter missing": lambda q: _slip(q, "drop"),
    "a space missing": _no_space,
    "no vowels": _sms,
}


def site_questions(name: str) -> tuple[Any, list[dict[str, Any]]]:
    """The index folder of ``name`` ("sample" or a shop of bench/sites) and its labelled
    questions written in English or Latin letters."""
    index = sample_index(project_copy()) if name == "sample" else build_site(SITES / name, WORK / "sites")[0]
    return index, [q for q in every_question(name) if q["lang"] in KINDS]


def every_question(name: str) -> list[dict[str, Any]]:
    """Every labelled question of ``name`` ("sample" or a shop of bench/sites), in any writing."""
    if name == "sample":
        return labelled()
    site = SITES / name
    return labelled(site / "queries.yaml") + (labelled(site / "tune.yaml") if (site / "tune.yaml").exists() else [])


def cells(searcher: Any, questions: list[dict[str, Any]], typed: Callable[[str], str]) -> dict[str, list[tuple[float, bool]]]:
    """Per kind, each answerable question's reciprocal rank (0 beyond 10) and whether it was
    answered, the question typed as ``typed`` makes it."""
    out: dict[str, list[tuple[float, bool]]] = {}
    for q in questions:
        if not q["expect"]:
            continue
        results = searcher.search(typed(q["q"]))
        rank = rank_of(list(results), q["expect"])
        out.setdefault(q["lang"], []).append((1 / rank if rank and rank <= 10 else 0.0, results.answered))
    return out


def readings(searcher: Any, questions: list[str]) -> tuple[list[tuple[str, str]], Counter[str]]:
    """What search reads as other words in ``questions`` as typed -- (the word, what it is
    read as: a slip put right, ``LexicalQuery.slips``, or two words, ``LexicalIndex.spaced``)
    -- and how the glued words of their "a space missing" variant are cut: ``right`` (as the
    question was written), ``wrong`` or ``none``. A rule that reads a word typed right as
    another is a rule's cost; the variant's cuts are its gain."""
    from kb_tools.search.lexical import GLUED_LETTERS, GLUED_WORD

    read: list[tuple[str, str]] = []
    cuts: Counter[str] = Counter()
    lexical = searcher.lexical
    for q in questions:
        spaced = lexical.spaced(q)
        for w in GLUED_WORD.findall(q):
            parts = lexical.glued_parts(w.casefold())
            if parts:
                read.append((w, " ".join(parts)))
        lang = searcher.query_language(spaced)
        if lang.endswith("-Latn"):
            read += sorted(lexical.build_query(spaced, lang).slips.items())
        at = _space_left_out(q)
        if at is None:
            continue
        start, end = q.rfind(" ", 0, at) + 1, q.find(" ", at + 1)
        written = q[start:] if end < 0 else q[start:end]  # the two words, as the question has them
        word = written.replace(" ", "", 1)
        if len(word) < GLUED_LETTERS or not word.isalpha():
            continue
        parts = lexical.glued_parts(word.casefold())
        cuts["none" if parts is None else "right" if " ".join(parts) == written.casefold() else "wrong"] += 1
    return read, cuts


def main(argv: list[str] | None = None) -> None:
    from kb_tools.search import Searcher

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sites", default=",".join(("sample", *SHOPS)))
    ap.add_argument("--variants", default="|".join(VARIANTS), help="'|'-separated names of VARIANTS")
    ap.add_argument("--readings", action="store_true",
                    help="only what search reads as other words in every labelled question as typed (and the "
                         "sample's chat messages), and how the glued words of 'a space missing' are cut")
    args = ap.parse_args(argv)
    if args.readings:
        print_readings(args.sites.split(","))
        return
    names = [v for v in args.variants.split("|") if v]
    unknown = [v for v in names if v not in VARIANTS]
    if unknown:
        ap.error(f"unknown variant(s) {unknown}: one of {list(VARIANTS)}")
    if "as typed" not in names:
        names.insert(0, "as typed")
    got: dict[str, dict[tuple[str, str], list[tuple[float, bool]]]] = {v: {} for v in names}
    for site in args.sites.split(","):
        index, questions = site_questions(site)
        searcher = Searcher(index)
        for v in names:
            for kind, rows in cells(searcher, questions, VARIANTS[v]).items():
                got[v][(site, kind)] = rows
        searcher.close()

    def mean(rows: list[tuple[float, bool]], i: int) -> float:
        return sum(float(r[i]) for r in rows) / len(rows)

    base = got["as typed"]
    out = []
    for v in names:
        every = [r for rows in got[v].values() for r in rows]
        d_mrr = [mean(got[v][c], 0) - mean(base[c], 0) for c in base]
        d_ans = [mean(got[v][c], 1) - mean(base[c], 1) for c in base]
        worst = min(base, key=lambda c: mean(got[v][c], 1) - mean(base[c], 1))
        out.append([v, len(every), f"{mean(every, 0):.3f}", f"{mean(every, 1):.3f}",
                    f"{sum(d_mrr) / len(d_mrr):+.3f}", f"{sum(d_ans) / len(d_ans):+.3f}",
                    f"{worst[0]} {worst[1]} {mean(base[worst], 1):.3f} → {mean(got[v][worst], 1):.3f}"])
    print(f"## A question as a phone types it ({len(base)} cells: {args.sites}; hybrid)\n")
    print(table(["typed as", "questions", "MRR@10", "answered", "mean change of a cell: MRR@10",
                 "answered", "cell that lost the most answers"], out))


def print_readings(sites: list[str]) -> None:
    import yaml

    from kb_tools.search import Searcher

    rows, listed = [], []
    for site in sites:
        index, _ = site_questions(site)
        # every labelled question, answerable or not, in any writing (the rules must not misread any)
        qs = [q["q"] for q in every_question(site)]
        if site == "sample":
            chat = yaml.safe_load((Path(__file__).with_name("chat_queries.yaml")).read_text(encoding="utf-8")) or []
            qs += [c["q"] for c in chat]
        searcher = Searcher(index)
        read, cuts = readings(searcher, qs)
        searcher.close()
        rows.append([site, len(qs), len(read), cuts["right"], cuts["wrong"], cuts["none"]])
        listed += [f"{site}: {w!r} -> {r!r}" for w, r in read]
    print("## Words read as other words, as typed; glued words of 'a space missing' cut\n")
    print(table(["site", "questions", "words read as others, as typed", "glued: cut right", "cut wrong", "not cut"], rows))
    print("\n" + "\n".join(listed))


if __name__ == "__main__":
    main()
