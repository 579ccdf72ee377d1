"""Video pipeline overhead: `VideoLibrary.process()` against the bare ffmpeg/ffprobe commands it
runs (identical arguments, same files, same parallelism), plus a warm rebuild.

    .venv/bin/python bench/bench_video.py [--jobs N] [--crf 23] [--max-height 720]

Prints Markdown tables (medians of alternating rounds: the build machine may be busy). The pipeline runs, per video: ffprobe (source), ffmpeg (remux or
transcode), ffprobe (output), ffmpeg (poster); the bare run executes exactly those command
lines with subprocess, built before the clock starts.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kb_tools.video import ffmpeg  # noqa: E402
from kb_tools.video.build import VideoLibrary  # noqa: E402


def bare_commands(lib: VideoLibrary, out: Path) -> dict[str, list[list[str]]]:
    """Per video, the command lines the pipeline runs on a cold cache."""
    plans: dict[str, list[list[str]]] = {}
    for video_id, source in lib.sources.items():
        info = ffmpeg.probe(source.media)  # untimed: only to build the same encode command
        folder = out / video_id
        folder.mkdir(parents=True)
        video = folder / "video.mp4"
        poster_at = source.poster_at if source.poster_at < info.duration else info.duration / 2
        plans[video_id] = [
            ffmpeg.probe_command(source.media),
            ffmpeg.encode_command(source.media, video, info, crf=lib.crf, max_height=lib.max_height),
            ffmpeg.probe_command(video),
            ffmpeg.poster_command(video, folder / "poster.jpg", poster_at),
        ]
    return plans


def cpu() -> tuple[float, float]:
    """(CPU seconds of this process, CPU seconds of its finished children)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def run_bare(plans: dict[str, list[list[str]]], jobs: int) -> float:
    def one(commands: list[list[str]]) -> None:
        for args in commands:
            subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, check=True)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=min(jobs, len(plans))) as pool:
        list(pool.map(one, plans.values()))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--crf", type=int, default=23)
    parser.add_argument("--max-height", type=int, default=720)
    parser.add_argument("--project-dir", type=Path, default=ROOT)
    parser.add_argument("--rounds", type=int, default=3, help="alternating bare/pipeline rounds")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-video-") as tmp_name:
        tmp = Path(tmp_name)

        def library() -> VideoLibrary:
            return VideoLibrary(args.project_dir, Path("videos"), tmp / "cache", crf=args.crf,
                                max_height=args.max_height, jobs=args.jobs)  # fmt: skip

        lib = library()
        problems = [p for p in lib.load() if p.is_error]
        if problems:
            sys.exit("\n".join(map(str, problems)))
        for source in lib.sources.values():  # same page-cache state for both runs
            source.media.read_bytes()

        # Alternate bare and pipeline rounds so background load hits both alike; report medians.
        bares: list[float] = []
        pipelines: list[float] = []
        bare_cpu: list[tuple[float, float]] = []
        pipeline_cpu: list[tuple[float, float]] = []
        for n in range(args.rounds):
            shutil.rmtree(tmp / "bare", ignore_errors=True)
            plans = bare_commands(lib, tmp / "bare")
            before = cpu()
            bares.append(run_bare(plans, args.jobs))
            after = cpu()
            bare_cpu.append((after[0] - before[0], after[1] - before[1]))
            shutil.rmtree(tmp / "cache", ignore_errors=True)
            lib = library()
            lib.load()
            before = cpu()
            started = time.perf_counter()
            problems = lib.process(tmp / f"site{n}", progress=False)
            pipelines.append(time.perf_counter() - started)
            after = cpu()
            pipeline_cpu.append((after[0] - before[0], after[1] - before[1]))
            assert not [p for p in problems if p.is_error], problems
        cold = lib.stats
        bare, pipeline = statistics.median(bares), statistics.median(pipelines)

        warm_lib = library()
        started = time.perf_counter()
        warm_lib.load()
        warm_problems = warm_lib.process(tmp / "site-warm", progress=False)
        warm = time.perf_counter() - started
        assert not [p for p in warm_problems if p.is_error], warm_problems
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")

        print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
              f"{len(lib.sources)} videos, jobs={args.jobs}, crf={args.crf}, max height {args.max_height}, "
              f"median of {args.rounds} alternating rounds, load average {load:.1f}\n")  # fmt: skip
        print("| video | source | size | processing | output |")
        print("|---|---|---|---|---|")
        for video_id, done in sorted(lib.processed.items()):
            src, out = done.info, done.output
            print(f"| {video_id} | {src.video_codec}/{src.audio_codec} {src.width}x{src.height}, "
                  f"{src.duration:.1f} s | {lib.sources[video_id].media.stat().st_size // 1024} KiB "
                  f"| {done.mode} | {out.video_codec}/{out.audio_codec} {out.width}x{out.height}, "
                  f"{done.video.stat().st_size // 1024} KiB |")  # fmt: skip
        print()
        b_py, b_ff = (statistics.median(c[i] for c in bare_cpu) for i in (0, 1))
        p_py, p_ff = (statistics.median(c[i] for c in pipeline_cpu) for i in (0, 1))
        print("| run | CPU in ffmpeg/ffprobe | CPU in Python | total CPU | vs bare |")
        print("|---|---:|---:|---:|---:|")
        print(f"| bare ffmpeg/ffprobe | {b_ff:.2f} s | {b_py:.2f} s | {b_ff + b_py:.2f} s | 1.00× |")
        print(f"| `VideoLibrary.process()`, cold | {p_ff:.2f} s | {p_py:.2f} s | {p_ff + p_py:.2f} s "
              f"| {(p_ff + p_py) / (b_ff + b_py):.2f}× |")  # fmt: skip
        print()
        print("| run | wall time (median; rounds) | videos processed | vs bare ffmpeg |")
        print("|---|---:|---:|---:|")
        print(f"| bare ffmpeg/ffprobe, identical command lines | {bare:.2f} s "
              f"({', '.join(f'{b:.2f}' for b in bares)}) | {len(lib.sources)} | 1.00× |")
        print(f"| `VideoLibrary.process()`, cold cache | {pipeline:.2f} s "
              f"({', '.join(f'{p:.2f}' for p in pipelines)}) | {cold.processed} | {pipeline / bare:.2f}× |")
        print(f"| `VideoLibrary.load()` + `.process()`, warm rebuild | {warm:.2f} s | "
              f"{warm_lib.stats.processed} | — |")  # fmt: skip
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
