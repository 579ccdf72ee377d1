"""Video projects for tests: one-second clips made with ffmpeg, `videos/<id>.yml` sidecars with
English captions, and the `VideoLibrary` over a project, as test_video*.py use them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

from kb_tools.video import ffmpeg
from kb_tools.video.build import VideoLibrary

H264_AAC = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"]


def make_clip(path: Path, *, size: str = "320x240", codecs: list[str] = H264_AAC,
              video: bool = True, audio: bool = True, seconds: float = 1.0) -> Path:  # fmt: skip
    """A short test clip: testsrc2 picture and a 440 Hz tone, straight from ffmpeg's lavfi."""
    args = [ffmpeg.binaries().ffmpeg, "-hide_banner", "-loglevel", "error", "-y"]
    if video:
        args += ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate=15:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
    if not video:
        codecs = ["-vn", "-c:a", "aac"]
    elif not audio:
        codecs = ["-an", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    subprocess.run([*args, *codecs, str(path)], check=True)
    return path


VTT_EN = """WEBVTT

00:00:00.000 --> 00:00:00.400
Open <i>My Orders</i> &amp; tap Track package

00:00:00.400 --> 00:00:00.900
Twist the jar clockwise until the safety lock clicks
"""


def write_video(project: Path, video_id: str, media: Path | None = None, **fields: object) -> Path:
    """videos/<id>.yml (and, by default, a 1 s H.264 clip and English captions) in `project`."""
    videos = project / "videos"
    videos.mkdir(parents=True, exist_ok=True)
    if media is None:
        media = make_clip(videos / f"{video_id}.mp4")
    elif media.parent != videos:
        media = Path(shutil.copy(media, videos / media.name))
    (videos / f"{video_id}.en.vtt").write_text(VTT_EN, encoding="utf-8")
    data: dict[str, object] = {
        "title": f"Video {video_id}", "summary": "A test video.", "file": media.name,
        "category": "returns", "products": ["blender-x2"], "lang": "en",
        "captions": {"en": f"{video_id}.en.vtt"},
        "chapters": [{"start": 0, "title": "First step"}, {"start": 0.5, "title": "Second step"}],
        "poster_at": 0.2,
    }  # fmt: skip
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=False)
    (videos / f"{video_id}.yml").write_text(text, encoding="utf-8")
    return videos / f"{video_id}.yml"


def line_of(path: Path, needle: str) -> int:
    """1-based line of the first line of `path` containing `needle`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, text in enumerate(lines, start=1) if needle in text)


def library(project: Path, **kwargs: object) -> VideoLibrary:
    settings = {"crf": 30, "max_height": 720, "jobs": 2}
    settings.update(kwargs)
    lib = VideoLibrary(project, Path("videos"), Path(".kb_cache"), categories={"returns": "Returns & exchanges"},
                       languages=("en", "bn"), **settings)  # type: ignore[arg-type]  # fmt: skip
    return lib
