"""The work on each video: probe it, remux or transcode it into a cache entry (once per content
and settings), make its poster, check its chapters and captions against its real duration,
and place its files in the built site. Videos are processed in parallel, bounded by `jobs`,
with a progress bar; a bad video is a `Problem` and the others still build. Every ffmpeg
command line comes from `kb_tools.video.ffmpeg`."""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from kb_tools.errors import VideoError
from kb_tools.problems import Problem, error, warning
from kb_tools.records import Chapter
from kb_tools.video import ffmpeg
from kb_tools.video.cache import EntryFacts, ProcessedVideo, VideoCache
from kb_tools.video.captions import chapters_webvtt, format_timestamp, to_webvtt
from kb_tools.video.sources import VideoSource


@dataclass
class ProcessStats:
    processed: int = 0  # videos ffmpeg worked on in this run
    cached: int = 0  # videos taken from the cache
    failed: int = 0
    seconds: float = 0.0
    videos: dict[str, tuple[str, float]] = field(default_factory=dict)  # id -> (what, seconds)


class VideoProcessor:
    """Fills the cache with every video's processed files; `stats` describes the last run."""

    def __init__(self, cache: VideoCache, jobs: int) -> None:
        self.cache = cache
        self.jobs = jobs if jobs > 0 else (os.cpu_count() or 1)
        self.stats = ProcessStats()

    def run(self, sources: list[VideoSource], progress: bool = True) -> tuple[dict[str, ProcessedVideo], list[Problem]]:
        """Probe and transcode/remux every source into the cache (or find it there)."""
        started = time.perf_counter()
        self.stats = ProcessStats()
        done_by_id: dict[str, ProcessedVideo] = {}
        problems: list[Problem] = []
        if not sources:
            return done_by_id, problems
        try:
            ffmpeg.binaries()
        except VideoError as exc:
            return done_by_id, [error(s.yml, s.line("file"), str(exc)) for s in sources]
        bar = _progress_bar(len(sources)) if progress else _NoBar()
        with ThreadPoolExecutor(max_workers=min(self.jobs, len(sources))) as pool:
            futures = {pool.submit(self._timed, s): s for s in sources}
            for future in as_completed(futures):
                source = futures[future]
                try:
                    done, fresh = future.result()
                except (VideoError, OSError) as exc:  # OSError: unreadable source, full disk
                    self.stats.failed += 1
                    problems.append(error(source.yml, source.line("file"), f"{source.media_shown}: {exc}"))
                    bar.set_postfix_str(f"{source.id} failed")
                else:
                    done_by_id[source.id] = done
                    if fresh:
                        self.stats.processed += 1
                    else:
                        self.stats.cached += 1
                    bar.set_postfix_str(f"{source.id} {done.mode if fresh else 'cached'}")
                bar.update(1)
        bar.close()
        self.stats.seconds = time.perf_counter() - started
        return done_by_id, problems

    def _timed(self, source: VideoSource) -> tuple[ProcessedVideo, bool]:
        started = time.perf_counter()
        try:
            done, fresh = self._process(source)
        except (VideoError, OSError):
            self.stats.videos[source.id] = ("failed", time.perf_counter() - started)
            raise
        self.stats.videos[source.id] = (done.mode if fresh else "cached", time.perf_counter() - started)
        return done, fresh

    def _process(self, source: VideoSource) -> tuple[ProcessedVideo, bool]:
        """The cache entry of `source`, made now if needed; True when it was made now."""
        key = self.cache.key(source.media)
        done = self.cache.get(key)
        if done is None:
            done = self.cache.create(key, lambda folder: self._encode(source, folder))
            fresh = True
        else:
            fresh = False
        poster(source, done)
        return done, fresh

    def _encode(self, source: VideoSource, folder: Path) -> EntryFacts:
        info = ffmpeg.probe(source.media)
        if not info.has_video and not info.has_audio:
            raise VideoError("ffprobe found no audio or video stream in it; is it really a video file?")
        if not info.has_video:
            raise VideoError("it has sound but no picture (audio-only); export the video with its picture track")
        if not info.has_audio:
            raise VideoError("it has a picture but no sound (video-only); add the narration track "
                             "(a silent track is fine) and export again")  # fmt: skip
        if info.duration <= 0:
            raise VideoError("ffprobe reports no duration; the file is probably truncated")
        settings = self.cache.settings
        mode = "remux" if ffmpeg.fits(info, settings.max_height) else "transcode"
        args = ffmpeg.encode_command(source.media, folder / "video.mp4", info, crf=settings.crf,
                                     max_height=settings.max_height)  # fmt: skip
        log = ffmpeg.run(args, f"the {mode}")
        output = ffmpeg.probe(folder / "video.mp4")
        # A truncated source can "succeed" with a stub of itself; ffmpeg's log says why.
        if output.duration < info.duration - max(0.5, 0.05 * info.duration):
            raise VideoError(
                f"the {mode} produced only {output.duration:.1f} s of {info.duration:.1f} s; "
                "the file is probably truncated or corrupt (export it again); ffmpeg said:\n    "
                + ffmpeg.stderr_tail(log)
            )
        return info, output, mode, source.media_shown


POSTER_CANDIDATES = (0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0)  # seconds: "near the start"
AUTO_POSTER = "poster-auto-1.jpg"  # bump the number when quiet_frame() changes


def poster(source: VideoSource, done: ProcessedVideo) -> Path:
    """The poster of a processed video, made once and kept in its cache entry: the frame at
    the sidecar's `poster_at`, else the quietest frame near the start (`quiet_frame`)."""
    duration = done.output.duration
    if source.poster_at is not None:
        at: float | None = source.poster_at if source.poster_at < duration else duration / 2
        path = done.folder / f"poster-{at:.3f}.jpg"
    else:
        at, path = None, done.folder / AUTO_POSTER
    if not path.is_file():
        if at is None:
            at = quiet_frame(done.video, duration)
        tmp = done.folder / f".poster-{threading.get_ident()}.jpg"
        ffmpeg.run(ffmpeg.poster_command(done.video, tmp, at), "the poster")
        os.replace(tmp, path)
    return path


def quiet_frame(video: Path, duration: float) -> float:
    """The time of the frame near the start with the fewest sharp edges: text laid over a
    picture (a title, a caption burnt in) is all sharp edges, so this is the frame least
    likely to carry any, and the play mark covers nothing a shopper needs to read. Frames that
    are (nearly) one colour - black before a fade-in - are not candidates when others are."""
    import numpy as np

    width, height = 160, 90
    times = [t for t in POSTER_CANDIDATES if t < duration - 0.05] or [duration / 2]
    scored = []
    for at in times:
        pixels = ffmpeg.grab(ffmpeg.frame_command(video, at, width, height), "reading a frame for the poster")
        if len(pixels) < width * height:
            continue
        frame = np.frombuffer(pixels[: width * height], dtype=np.uint8).reshape(height, width).astype(np.int16)
        edges = (np.abs(np.diff(frame, axis=1)) > 24).mean() + (np.abs(np.diff(frame, axis=0)) > 24).mean()
        blank = float(frame.std()) < 4.0
        scored.append((blank, float(edges), at))
    return min(scored)[2] if scored else times[0]


def check_times(source: VideoSource, duration: float) -> tuple[list[Problem], list[Chapter]]:
    """Problems with times past the video's real end, and the chapters that are inside it."""
    problems: list[Problem] = []
    if source.poster_at is not None and source.poster_at >= duration:
        problems.append(warning(source.yml, source.line("poster_at"),
                                f"poster_at {source.poster_at}s is beyond the video's end "
                                f"({duration:.1f}s); the middle frame is used"))  # fmt: skip
    kept: list[Chapter] = []
    for chapter, line in zip(source.chapters, source.chapter_lines or [0] * len(source.chapters), strict=True):
        if chapter.start >= duration:
            problems.append(error(source.chapters_file or source.yml, line or source.line("chapters"),
                                  f"chapter '{chapter.title}' starts at {format_timestamp(chapter.start)}, "
                                  f"beyond the video's end ({format_timestamp(duration)})"))  # fmt: skip
        else:
            kept.append(chapter)
    for lang, cues in source.captions.items():
        late = [c for c in cues if c.start >= duration]
        if late:
            problems.append(warning(source.yml, source.line("captions"),
                                    f"{len(late)} '{lang}' caption cue(s) start after the video ends "
                                    f"({format_timestamp(duration)}), first at line {late[0].line}"))  # fmt: skip
    return problems, kept


def publish(source: VideoSource, done: ProcessedVideo, chapters: list[Chapter], folder: Path) -> None:
    """The video, poster, captions and chapters of one video, in its folder of the built site."""
    folder.mkdir(parents=True, exist_ok=True)
    _link(done.video, folder / "video.mp4")
    _link(poster(source, done), folder / "poster.jpg")
    for lang, cues in source.captions.items():
        (folder / f"captions.{lang}.vtt").write_text(to_webvtt(cues), encoding="utf-8")
    if chapters:
        (folder / "chapters.vtt").write_text(chapters_webvtt(chapters, done.output.duration), encoding="utf-8")


def _link(src: Path, dst: Path) -> None:
    """Hard-link (instant, no extra disk) or copy when across file systems."""
    tmp = dst.with_name(f".{dst.name}.{threading.get_ident()}")
    tmp.unlink(missing_ok=True)
    try:
        os.link(src, tmp)
    except OSError:
        shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def _progress_bar(total: int):  # type: ignore[no-untyped-def]
    from tqdm import tqdm  # imported only to show the bar (with its lock, it costs a build ~30 ms)

    return tqdm(total=total, desc="videos", unit="video", file=sys.stderr)


class _NoBar:
    """The progress bar's calls, doing nothing: progress is off (e.g. KB_PROGRESS=0)."""

    def set_postfix_str(self, text: str) -> None:
        pass

    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass
