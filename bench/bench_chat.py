"""Questions told as a chat message: what happened first, then the question ("i ordered a
blender last week and it still has not arrived, where is it"), against the short questions of
the labelled set in the same languages (README › Search › Relevance, "Round 19").

    .venv/bin/python -m bench.bench_chat

bench/chat_queries.yaml holds 99 such messages with an answer on the sample and 6 without one,
in English, Bengali and Gujarati, in script and in Latin letters (Banglish, romanized Gujarati,
Hinglish), split into the part looked at while trying a rule and a held-out part. Each is
searched hybrid through ``Searcher.search``, the path a shopper's message takes from the widget;
the table gives per split and language its MRR@10, the share whose first hit is a right page,
the share answered and, for the messages without an answer, the share declined. The last rows
are bench/queries.yaml's answerable questions of the same languages (both splits), searched in
the same run: what a short question gets.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bench.bench_relevance import HERE, labelled, rank_of
from bench.search_common import project_copy, sample_index, table

CHAT = HERE / "chat_queries.yaml"
LANGS = ("en", "bn", "bn-Latn", "gu", "gu-Latn", "hi-Latn")


def searched(searcher: Any, questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each question with its rank (None beyond the hits) and whether search answered it."""
    out = []
    for q in questions:
        results = searcher.search(q["q"])
        out.append({**q, "rank": rank_of(list(results), q["expect"]) if q["expect"] else None,
                    "answered": results.answered})
    return out


def row(label: str, lang: str, runs: list[dict[str, Any]]) -> list[object]:
    """MRR@10, first hit right, answered (answerable ones) and declined (the others)."""
    ans = [r for r in runs if r["expect"]]
    none = [r for r in runs if not r["expect"]]

    def share(rows: list[dict[str, Any]], ok: Any) -> str:
        return f"{sum(1 for r in rows if ok(r)) / len(rows):.3f}" if rows else ""

    mrr = f"{sum(1 / r['rank'] for r in ans if r['rank'] and r['rank'] <= 10) / len(ans):.3f}" if ans else ""
    return [label, lang, len(ans), mrr, share(ans, lambda r: r["rank"] == 1), share(ans, lambda r: r["answered"]),
            len(none), share(none, lambda r: not r["answered"])]


def main(argv: list[str] | None = None) -> None:
    from kb_tools.search import Searcher

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--queries", type=Path, default=CHAT, help="the chat messages (default: bench/chat_queries.yaml)")
    ap.add_argument("--misses", action="store_true", help="list the tune split's messages whose first hit is wrong")
    args = ap.parse_args(argv)
    searcher = Searcher(sample_index(project_copy()))
    chat = searched(searcher, labelled(args.queries))
    short = searched(searcher, [q for q in labelled() if q["expect"] and q["lang"] in LANGS])
    searcher.close()
    rows = []
    for label, runs in (("chat, tune", [r for r in chat if r["split"] == "tune"]),
                        ("chat, held-out", [r for r in chat if r["split"] == "heldout"]),
                        ("short (queries.yaml)", short)):
        rows.append(row(label, "all", runs))
        rows += [row(label, lang, [r for r in runs if r["lang"] == lang]) for lang in LANGS
                 if any(r["lang"] == lang for r in runs)]
    print(f"## Questions told as a chat message ({len(chat)} messages; the sample, hybrid)\n")
    print(table(["questions", "written in", "answerable", "MRR@10", "first hit right", "answered",
                 "no answer", "declined"], rows))
    if args.misses:
        print()
        for r in chat:
            if r["split"] == "tune" and (r["rank"] != 1 if r["expect"] else r["answered"]):
                print(f"  {r['lang']:7} rank {r['rank']} answered {r['answered']}: {r['q']!r}")


if __name__ == "__main__":
    main()
