"""`VideoLibrary`: the video FAQ from sidecars to site files, the seam the plugin and CLI use.

Processing is cached by the source's content hash plus the encoding settings under
`cache_dir/video/<key>/`, so an unchanged video is never processed twice. Entries are
written to a temporary folder and renamed into place, so a failed or interrupted run never
leaves a half-written entry, and an earlier good entry stays.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from kb_tools.content.languages import path_language
from kb_tools.errors import VideoError
from kb_tools.problems import Problem, error, warning
from kb_tools.records import Chapter, VideoRecord
from kb_tools.video import ffmpeg
from kb_tools.video.captions import chapters_webvtt, format_timestamp, to_records, to_webvtt
from kb_tools.video.pages import embed, index_page, video_page
from kb_tools.video.sources import VideoSource, load_sources

PIPELINE_VERSION = 1  # bump when the commands change, to invalidate every cache entry
_EMBED = re.compile(r"""^[ \t]*\{\{\s*video\(\s*(?:"([^"]*)"|'([^']*)')\s*\)\s*\}\}[ \t]*$""")
_FENCE = re.compile(r"^[ \t]*(```|~~~)")


@dataclass(frozen=True)
class ProcessedVideo:
    """A cache entry: the processed files of one source at one set of settings."""

    key: str
    folder: Path
    info: ffmpeg.MediaInfo  # of the source
    output: ffmpeg.MediaInfo  # of video.mp4
    mode: str  # "remux" | "transcode"

    @property
    def video(self) -> Path:
        return self.folder / "video.mp4"


@dataclass
class ProcessStats:
    processed: int = 0  # videos ffmpeg worked on in this run
    cached: int = 0  # videos taken from the cache
    failed: int = 0
    seconds: float = 0.0
    videos: dict[str, tuple[str, float]] = field(default_factory=dict)  # id -> (what, seconds)


class VideoLibrary:
    """Every video of a project. Call `.load()` first; the other methods use what it read."""

    def __init__(self, project_dir: Path, videos_dir: Path, cache_dir: Path, *, crf: int = 23,
                 max_height: int = 720, jobs: int = 0, docs_dir: Path = Path("docs"),
                 categories: dict[str, str] | None = None, languages: tuple[str, ...] = ("en",),
                 use_directory_urls: bool = True, preset: str = ffmpeg.PRESET) -> None:  # fmt: skip
        """Paths are relative to project_dir (or absolute). The project's own library, with the
        settings of its mkdocs.yml, is `kb_tools.project.Project.video_library()`."""
        self.project_dir = Path(project_dir).resolve()
        self.videos_dir = self.project_dir / videos_dir
        self.cache_dir = self.project_dir / cache_dir
        self.docs_dir = self.project_dir / docs_dir
        self.crf = crf
        self.max_height = max_height
        self.jobs = jobs if jobs > 0 else (os.cpu_count() or 1)
        self.preset = preset
        self.categories = dict(categories or {})  # the plugin's categories give the index its section titles
        self.languages = tuple(languages)
        self.use_directory_urls = use_directory_urls
        self.sources: dict[str, VideoSource] = {}
        self.broken: set[str] = set()  # ids whose sidecar has errors
        self.processed: dict[str, ProcessedVideo] = {}
        self.stats = ProcessStats()
        self._chapters: dict[str, list[Chapter]] = {}
        self._hashes_lock = threading.Lock()
        self._hashes: dict[str, list] | None = None

    # -- loading ---------------------------------------------------------------------------
    def load(self) -> list[Problem]:
        """Parse and validate every videos/*.yml and its captions (no ffmpeg)."""
        sources, problems = load_sources(self.project_dir, self.videos_dir, self.docs_dir, self.categories)
        self.sources = {s.id: s for s in sources}
        sidecars = [*self.videos_dir.glob("*.yml"), *self.videos_dir.glob("*.yaml")] if self.videos_dir.is_dir() else []
        self.broken = {p.stem for p in sidecars} - set(self.sources)
        self._chapters = {s.id: list(s.chapters) for s in sources}
        return sorted(problems)

    # -- pages -----------------------------------------------------------------------------
    def pages(self) -> dict[str, str]:
        """Generated Markdown pages keyed by docs-relative path."""
        pages = {"videos/index.md": index_page(list(self.sources.values()), self.categories)}
        for video_id, source in self.sources.items():
            pages[f"videos/{video_id}.md"] = video_page(source, self._chapters[video_id], self._size(source))
        return pages

    def _size(self, source: VideoSource) -> tuple[int, int] | None:
        """The player's size (so the page does not jump when the video loads): from the cache,
        else what the pipeline will make of the source (one ffprobe; None if it cannot tell)."""
        done = self.processed.get(source.id) or self._cached(source)
        if done is not None:
            return done.output.width, done.output.height
        try:
            info = ffmpeg.probe(source.media)
        except (VideoError, OSError):
            return None  # process() reports it
        return ffmpeg.target_size(info, self.max_height) if info.has_video and info.height else None

    def render_embeds(self, markdown: str, src_path: str) -> tuple[str, list[Problem]]:
        """Expand each `{{ video("id") }}` line (outside code fences) of the page at src_path."""
        try:
            shown = (self.docs_dir.relative_to(self.project_dir) / src_path).as_posix()
        except ValueError:  # docs_dir outside the project folder
            shown = (self.docs_dir / src_path).as_posix()
        problems: list[Problem] = []
        out: list[str] = []
        fence: str | None = None
        for n, line in enumerate(markdown.split("\n"), start=1):
            fm = _FENCE.match(line)
            if fm:
                fence = None if fence == fm.group(1) else (fence or fm.group(1))
            m = None if fence else _EMBED.match(line)
            if not m:
                out.append(line)
                continue
            video_id = m.group(1) if m.group(1) is not None else m.group(2)
            source = self.sources.get(video_id)
            if source is None:
                if video_id in self.broken:
                    msg = (f"video '{video_id}' is left out: videos/{video_id}.yml or its captions "
                           "have errors (listed with their lines); fix them")  # fmt: skip
                else:
                    known = ", ".join(sorted(self.sources)) or "none yet"
                    msg = f"unknown video '{video_id}'; videos are the videos/*.yml files (known: {known})"
                problems.append(error(shown, n, msg))
                out.append(line)
                continue
            done = self.processed.get(video_id) or self._cached(source)
            lang = path_language(src_path, self.languages) or source.lang
            chapters = source.chapters_in(self._chapters[video_id], lang)
            html = embed(source, chapters, src_path, lang, done.output.duration if done else None,
                         self.use_directory_urls)  # fmt: skip
            out.extend(["", html, ""])
        return "\n".join(out), problems

    # -- processing ------------------------------------------------------------------------
    def prepare(self, progress: bool = True) -> list[Problem]:
        """Probe and transcode/remux every video into the cache (parallel, bounded by jobs)."""
        started = time.perf_counter()
        self.stats = ProcessStats()
        problems: list[Problem] = []
        sources = list(self.sources.values())
        if not sources:
            return problems
        try:
            ffmpeg.binaries()
        except VideoError as exc:
            return [error(s.yml, s.line("file"), str(exc)) for s in sources]
        bar = tqdm(total=len(sources), desc="videos", unit="video", file=sys.stderr,
                   disable=not progress, leave=progress)  # fmt: skip
        with ThreadPoolExecutor(max_workers=min(self.jobs, len(sources))) as pool:
            futures = {pool.submit(self._prepare_one, s): s for s in sources}
            for future in as_completed(futures):
                source = futures[future]
                try:
                    done, fresh = future.result()
                except (VideoError, OSError) as exc:  # OSError: unreadable source, full disk
                    self.stats.failed += 1
                    problems.append(error(source.yml, source.line("file"), f"{source.media_shown}: {exc}"))
                    bar.set_postfix_str(f"{source.id} failed")
                else:
                    self.processed[source.id] = done
                    if fresh:
                        self.stats.processed += 1
                    else:
                        self.stats.cached += 1
                    bar.set_postfix_str(f"{source.id} {done.mode if fresh else 'cached'}")
                    problems.extend(self._check_times(source, done.output.duration))
                bar.update(1)
        bar.close()
        self.stats.seconds = time.perf_counter() - started
        return sorted(problems)

    def process(self, site_dir: Path, progress: bool = True) -> list[Problem]:
        """Prepare (cached) and place every video's files under site_dir/videos/<id>/."""
        problems = self.prepare(progress)
        for video_id, done in self.processed.items():
            source = self.sources[video_id]
            try:
                self._publish(source, done, Path(site_dir) / "videos" / video_id)
            except OSError as exc:
                problems.append(error(source.yml, 0, f"cannot write the video's files into {site_dir}: {exc}"))
        return sorted(problems)

    def records(self) -> list[VideoRecord]:
        """One record per video and caption language (one without cues if it has no captions)."""
        records: list[VideoRecord] = []
        for video_id, source in self.sources.items():
            done = self.processed.get(video_id) or self._cached(source)
            langs = list(source.captions) or [source.lang]
            for lang in langs:
                cues = to_records(source.captions.get(lang, []))
                chapters = tuple(source.chapters_in(self._chapters[video_id], lang))
                duration = done.output.duration if done else max(
                    [c.end for c in cues] + [c.start for c in chapters] + [0.0])  # fmt: skip
                records.append(
                    VideoRecord(
                        id=video_id, url=f"videos/{video_id}/", title=source.title, lang=lang,
                        summary=source.summary, category=source.category,
                        products=source.products, tags=source.tags,
                        contact_topic=source.contact_topic, duration=duration,
                        chapters=chapters, cues=cues,
                    )  # fmt: skip
                )
        return records

    def prune(self) -> tuple[int, int]:
        """Delete cache entries no current video (at the current settings) uses, and leftovers
        of interrupted runs. Returns (entries removed, bytes freed)."""
        root = self.cache_dir / "video"
        if not root.is_dir():
            return 0, 0
        keep = set()
        for source in self.sources.values():
            try:
                keep.add(self._key(source))
            except OSError:
                continue
        removed = freed = 0
        for entry in root.iterdir():
            if not entry.is_dir() or entry.name in keep:
                continue
            if entry.name.startswith(".tmp-") and time.time() - entry.stat().st_mtime < 3600:
                continue  # maybe another build working right now
            freed += sum(f.stat().st_size for f in entry.rglob("*") if f.is_file())
            shutil.rmtree(entry, ignore_errors=True)
            removed += 1
        return removed, freed

    # -- internals -------------------------------------------------------------------------
    def _settings(self) -> dict:
        return {"v": PIPELINE_VERSION, "crf": self.crf, "max_height": self.max_height, "preset": self.preset}

    def _key(self, source: VideoSource) -> str:
        digest = hashlib.sha256(self._content_hash(source.media).encode())
        digest.update(json.dumps(self._settings(), sort_keys=True).encode())
        return digest.hexdigest()[:24]

    def _content_hash(self, path: Path) -> str:
        """sha256 of the file, remembered by (size, mtime) so big files are read once."""
        index_path = self.cache_dir / "video" / "hashes.json"
        st = path.stat()
        stamp = [st.st_size, st.st_mtime_ns]
        with self._hashes_lock:
            if self._hashes is None:
                try:
                    self._hashes = json.loads(index_path.read_text())
                except (OSError, ValueError):
                    self._hashes = {}
            known = self._hashes.get(str(path))
            if known and known[:2] == stamp:
                return str(known[2])
        h = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        digest = h.hexdigest()
        with self._hashes_lock:
            assert self._hashes is not None
            self._hashes[str(path)] = [*stamp, digest]
            index_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = index_path.with_suffix(f".tmp{os.getpid()}-{threading.get_ident()}")
            tmp.write_text(json.dumps(self._hashes))
            os.replace(tmp, index_path)
        return digest

    def _cached(self, source: VideoSource) -> ProcessedVideo | None:
        try:
            key = self._key(source)
        except OSError:
            return None
        return self._read_entry(key)

    def _read_entry(self, key: str) -> ProcessedVideo | None:
        folder = self.cache_dir / "video" / key
        try:
            meta = json.loads((folder / "meta.json").read_text())
            return ProcessedVideo(
                key, folder, ffmpeg.MediaInfo.from_json(meta["info"]),
                ffmpeg.MediaInfo.from_json(meta["output"]), meta["mode"],
            )  # fmt: skip
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _prepare_one(self, source: VideoSource) -> tuple[ProcessedVideo, bool]:
        started = time.perf_counter()
        try:
            done, fresh = self._prepare_cached(source)
        except (VideoError, OSError):
            self.stats.videos[source.id] = ("failed", time.perf_counter() - started)
            raise
        self.stats.videos[source.id] = (done.mode if fresh else "cached", time.perf_counter() - started)
        return done, fresh

    def _prepare_cached(self, source: VideoSource) -> tuple[ProcessedVideo, bool]:
        key = self._key(source)
        done = self._read_entry(key)
        if done is not None:
            self._poster(source, done)
            return done, False
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
        work = self.cache_dir / "video" / f".tmp-{key}-{os.getpid()}-{threading.get_ident()}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        try:
            mode = "remux" if ffmpeg.fits(info, self.max_height) else "transcode"
            args = ffmpeg.encode_command(source.media, work / "video.mp4", info, crf=self.crf,
                                         max_height=self.max_height)  # fmt: skip
            log = ffmpeg.run(args, f"the {mode}")
            output = ffmpeg.probe(work / "video.mp4")
            # A truncated source can "succeed" with a stub of itself; ffmpeg's log says why.
            if output.duration < info.duration - max(0.5, 0.05 * info.duration):
                raise VideoError(
                    f"the {mode} produced only {output.duration:.1f} s of {info.duration:.1f} s; "
                    "the file is probably truncated or corrupt (export it again); ffmpeg said:\n    "
                    + ffmpeg.stderr_tail(log)
                )
            (work / "meta.json").write_text(
                json.dumps({"info": info.to_json(), "output": output.to_json(), "mode": mode,
                            "source": source.media_shown, "settings": self._settings()})  # fmt: skip
            )
            folder = self.cache_dir / "video" / key
            try:
                os.replace(work, folder)
            except OSError:  # another run finished the same entry first
                shutil.rmtree(work, ignore_errors=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        done = ProcessedVideo(key, folder, info, output, mode)
        self._poster(source, done)
        return done, True

    def _poster(self, source: VideoSource, done: ProcessedVideo) -> Path:
        at = source.poster_at if source.poster_at < done.output.duration else done.output.duration / 2
        poster = done.folder / f"poster-{at:.3f}.jpg"
        if not poster.is_file():
            tmp = done.folder / f".poster-{threading.get_ident()}.jpg"
            ffmpeg.run(ffmpeg.poster_command(done.video, tmp, at), "the poster")
            os.replace(tmp, poster)
        return poster

    def _check_times(self, source: VideoSource, duration: float) -> list[Problem]:
        problems: list[Problem] = []
        if source.poster_at >= duration:
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
        self._chapters[source.id] = kept
        for lang, cues in source.captions.items():
            late = [c for c in cues if c.start >= duration]
            if late:
                problems.append(warning(source.yml, source.line("captions"),
                                        f"{len(late)} '{lang}' caption cue(s) start after the video ends "
                                        f"({format_timestamp(duration)}), first at line {late[0].line}"))  # fmt: skip
        return problems

    def _publish(self, source: VideoSource, done: ProcessedVideo, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        _link(done.video, folder / "video.mp4")
        _link(self._poster(source, done), folder / "poster.jpg")
        for lang, cues in source.captions.items():
            (folder / f"captions.{lang}.vtt").write_text(to_webvtt(cues), encoding="utf-8")
        chapters = self._chapters.get(source.id, [])
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
