"""The video cache: the processed files of one source at one set of encoding settings, under
`cache_dir/video/<key>/`, so an unchanged video is never processed twice.

The key is the sha256 of the source's content plus the settings; content hashes are
remembered in `hashes.json` by (size, mtime), so a big file is read once. An entry is
written into a temporary folder and renamed into place, so a failed or interrupted run never
leaves a half-written entry, and an earlier good entry stays.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from kb_tools.video import ffmpeg

PIPELINE_VERSION = 1  # bump when the commands change, to invalidate every cache entry
STALE_TMP_SECONDS = 3600  # a temporary entry younger than this may belong to a build running now


@dataclass(frozen=True)
class EncodeSettings:
    """What the processed files depend on besides the source's content."""

    crf: int = 23
    max_height: int = 720
    preset: str = ffmpeg.PRESET

    def as_dict(self) -> dict:
        return {"v": PIPELINE_VERSION, "crf": self.crf, "max_height": self.max_height, "preset": self.preset}


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


# What an entry's maker returns: (source info, output info, mode, the source as writers know it).
EntryFacts = tuple[ffmpeg.MediaInfo, ffmpeg.MediaInfo, str, str]


class VideoCache:
    """Keys, `hashes.json` and entries of `cache_dir/video/`. Thread-safe."""

    def __init__(self, cache_dir: Path, settings: EncodeSettings) -> None:
        self.root = Path(cache_dir) / "video"
        self.settings = settings
        self._hashes_lock = threading.Lock()
        self._hashes: dict[str, list] | None = None

    def key(self, media: Path) -> str:
        """The entry of `media` at these settings (reads the file once per (size, mtime))."""
        digest = hashlib.sha256(self._content_hash(media).encode())
        digest.update(json.dumps(self.settings.as_dict(), sort_keys=True).encode())
        return digest.hexdigest()[:24]

    def lookup(self, media: Path) -> ProcessedVideo | None:
        """The finished entry of `media`, or None (not processed yet, or unreadable)."""
        try:
            return self.get(self.key(media))
        except OSError:
            return None

    def get(self, key: str) -> ProcessedVideo | None:
        folder = self.root / key
        try:
            meta = json.loads((folder / "meta.json").read_text())
            return ProcessedVideo(
                key, folder, ffmpeg.MediaInfo.from_json(meta["info"]),
                ffmpeg.MediaInfo.from_json(meta["output"]), meta["mode"],
            )  # fmt: skip
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def create(self, key: str, make: Callable[[Path], EntryFacts]) -> ProcessedVideo:
        """A new entry: `make(folder)` writes video.mp4 into a temporary folder and says what
        it made; the folder becomes the entry only if `make` returns."""
        work = self.root / f".tmp-{key}-{os.getpid()}-{threading.get_ident()}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        folder = self.root / key
        try:
            info, output, mode, source = make(work)
            (work / "meta.json").write_text(
                json.dumps({"info": info.to_json(), "output": output.to_json(), "mode": mode,
                            "source": source, "settings": self.settings.as_dict()})  # fmt: skip
            )
            try:
                os.replace(work, folder)
            except OSError:  # another run finished the same entry first
                shutil.rmtree(work, ignore_errors=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return ProcessedVideo(key, folder, info, output, mode)

    def prune(self, keep: Iterable[str]) -> tuple[int, int]:
        """Delete the entries not in `keep`, and leftovers of interrupted runs.
        Returns (entries removed, bytes freed)."""
        if not self.root.is_dir():
            return 0, 0
        keep = set(keep)
        removed = freed = 0
        for entry in self.root.iterdir():
            if not entry.is_dir() or entry.name in keep:
                continue
            if entry.name.startswith(".tmp-") and time.time() - entry.stat().st_mtime < STALE_TMP_SECONDS:
                continue  # maybe another build working right now
            freed += sum(f.stat().st_size for f in entry.rglob("*") if f.is_file())
            shutil.rmtree(entry, ignore_errors=True)
            removed += 1
        return removed, freed

    def _content_hash(self, path: Path) -> str:
        """sha256 of the file, remembered by (size, mtime) so big files are read once."""
        index_path = self.root / "hashes.json"
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
