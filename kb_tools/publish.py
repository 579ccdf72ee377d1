"""Publishing a build atomically: the site and its search index are built aside and swapped in
together, only after every check of the build passed.

Beside each published folder (in the same parent, so a rename is atomic) live:

    site/                         the published site, a plain folder static hosts copy as is
    .site.kb-building-<pid>/      a build in progress (MkDocs writes the pages here)
    .site.kb-previous/            the generation published before, kept until the next publish
    .site.kb-retired-<pid>/       the one before that, retired by a publish (`mkdocs build`)
    search_index/ ...             the same for the search index

`Generation.publish()` swaps the building folder with the published one in one
`renameat2(RENAME_EXCHANGE)` call on Linux (elsewhere two renames, a few microseconds apart),
then keeps the old generation as `.kb-previous`. A failed build removes its building folder; a
killed one leaves it behind, and the next build removes it (its process is gone). The plugin
publishes with `keep_retired`: the generation before the previous one is renamed aside, and the
next build deletes it in the background while MkDocs renders (`Sweeper`).

The site carries `.kb-build.json`, naming the index it was built with (the index's
fingerprint). `kb serve` serves the generation of the site that matches the index it has
loaded (`SiteGenerations.folder_for`), so during the second between a publish and the new
index being loaded, a search hit never leads to a page of another generation.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import json
import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

from kb_tools.errors import PublishError

BUILD_FILE = ".kb-build.json"
BUILDING = ".kb-building-"
PREVIOUS = ".kb-previous"
RETIRED = ".kb-retired-"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _libc_renameat2(path: str | None):  # type: ignore[no-untyped-def]
    """renameat2 from the C library at `path` (None: the one this process already uses), or None."""
    try:
        return ctypes.CDLL(path, use_errno=True).renameat2
    except (OSError, AttributeError, TypeError):
        return None


def _renameat2():  # type: ignore[no-untyped-def]
    # The C library this process already uses (glibc exports renameat2 to it); only when that
    # lacks it is the library looked up by name, which runs `ldconfig -p` (~40 ms a build).
    fn = _libc_renameat2(None) or _libc_renameat2(ctypes.util.find_library("c"))
    if fn is None:
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


_EXCHANGE = _renameat2()


def exchange(a: Path, b: Path) -> None:
    """Swap two folders atomically: `a` gets b's content and `b` gets a's, with no moment where
    either path is missing. Falls back to three renames where the kernel or file system cannot
    exchange (then `b` is missing for a few microseconds)."""
    if _EXCHANGE is not None:
        if _EXCHANGE(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
            return
        err = ctypes.get_errno()
        if err not in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
            raise OSError(err, os.strerror(err), str(a), None, str(b))
    aside = b.with_name(b.name + ".kb-swap")
    os.replace(b, aside)
    try:
        os.replace(a, b)
    except OSError:
        os.replace(aside, b)
        raise
    os.replace(aside, a)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class Generation:
    """One folder published as a unit: `target` is what readers use; the new content is
    written into `building` and swapped in by `publish()`."""

    target: Path
    building: Path = field(init=False)

    def __post_init__(self) -> None:
        # A symlinked site folder (e.g. site -> /var/www/help) is published where it points.
        self.target = Path(os.path.realpath(self.target))
        self.building = self.target.with_name(f".{self.target.name}{BUILDING}{os.getpid()}")

    @property
    def previous(self) -> Path:
        return previous_of(self.target)

    def begin(self, *, copy_current: bool = False, link_current: bool = False) -> Path:
        """A fresh building folder. copy_current: start from a copy of the published folder
        (mkdocs build --dirty); link_current: from hard links to it (for a writer that only
        ever replaces files, never edits them in place)."""
        remove_stale(self.target)
        shutil.rmtree(self.building, ignore_errors=True)
        self.target.parent.mkdir(parents=True, exist_ok=True)
        if self.target.is_dir() and (copy_current or link_current):
            shutil.copytree(self.target, self.building, symlinks=True,
                            copy_function=_link_or_copy if link_current else shutil.copy2)
            (self.building / BUILD_FILE).unlink(missing_ok=True)
        else:
            self.building.mkdir()
        return self.building

    def publish(self, *, keep_retired: bool = False) -> None:
        """Swap the building folder in; the published one becomes `.kb-previous`, and the
        previous one before it is deleted, or with keep_retired only renamed to
        `.kb-retired-<pid>` for the next build's `Sweeper` to delete while it renders:
        deleting a site's files takes a second or more on a disk that discards freed blocks,
        and nothing reads that generation any more."""
        if not self.building.is_dir():
            raise PublishError(f"nothing to publish: {self.building} is missing")
        try:
            if self.target.exists():
                exchange(self.building, self.target)
                # `building` now holds the old generation: it becomes the previous one.
                trash = self.target.with_name(f".{self.target.name}{RETIRED}{os.getpid()}")
                shutil.rmtree(trash, ignore_errors=True)
                if self.previous.exists():
                    os.replace(self.previous, trash)
                os.replace(self.building, self.previous)
                if not keep_retired:
                    shutil.rmtree(trash, ignore_errors=True)
            else:
                os.replace(self.building, self.target)
        except OSError as e:
            raise PublishError(f"could not publish {self.target.name}/: {e}; the previous one is kept") from e

    def unpublish(self) -> None:
        """Undo `publish()` (used when the other half of a pair could not be published)."""
        if self.previous.exists() and self.target.exists():
            exchange(self.previous, self.target)

    def abandon(self) -> None:
        shutil.rmtree(self.building, ignore_errors=True)


def publish_together(generations: list[Generation], *, keep_retired: bool = False) -> None:
    """Publish every generation, or none: if one fails, those already swapped are swapped back."""
    done: list[Generation] = []
    try:
        for gen in generations:
            gen.publish(keep_retired=keep_retired)
            done.append(gen)
    except BaseException:
        for gen in reversed(done):
            gen.unpublish()
        for gen in generations:
            gen.abandon()
        raise


class Sweeper:
    """Deletes the generations earlier builds retired (`Generation.publish(keep_retired=True)`)
    beside each target, in a background thread: started when a build starts, the deletion
    (waiting on the disk, not the CPU) overlaps MkDocs rendering the pages. `join()` before
    publishing, so at most one retired generation per target is ever on disk."""

    def __init__(self, targets: list[Path]) -> None:
        self.folders = [p for t in targets for p in retired_beside(Path(os.path.realpath(t)))]
        self._thread: threading.Thread | None = None
        if self.folders:
            self._thread = threading.Thread(target=self._sweep, name="kb-sweep-retired", daemon=True)
            self._thread.start()

    def _sweep(self) -> None:
        for folder in self.folders:
            shutil.rmtree(folder, ignore_errors=True)

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None


def retired_beside(target: Path) -> list[Path]:
    """The retired generations of `target` (any build's: nothing reads them)."""
    if not target.parent.is_dir():
        return []
    prefix = f".{target.name}{RETIRED}"
    return sorted(p for p in target.parent.iterdir() if p.name.startswith(prefix) and p.is_dir())


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def previous_of(target: Path) -> Path:
    return target.with_name(f".{target.name}{PREVIOUS}")


def remove_stale(target: Path) -> list[Path]:
    """Remove building folders that a killed build left beside `target`."""
    removed = []
    pattern = re.compile(rf"^\.{re.escape(target.name)}{re.escape(BUILDING)}(\d+)$")
    if not target.parent.is_dir():
        return removed
    for entry in target.parent.iterdir():
        m = pattern.match(entry.name)
        if m and int(m.group(1)) != os.getpid() and not _alive(int(m.group(1))):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def write_build_file(site: Path, index_fingerprint: str | None) -> None:
    (site / BUILD_FILE).write_text(json.dumps({"index": index_fingerprint}), encoding="utf-8")


def read_build_file(site: Path) -> str | None:
    try:
        data = json.loads((site / BUILD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data.get("index") if isinstance(data, dict) else None


class SiteGenerations:
    """The folders a site's generations live in, for a server that must serve the one that
    matches its loaded search index."""

    def __init__(self, site_dir: Path) -> None:
        self.site_dir = Path(os.path.realpath(site_dir))
        self._stamp: tuple[int, ...] | None = None
        self._known: dict[str, Path] = {}

    def folder_for(self, index_fingerprint: str | None) -> Path:
        """The generation built with that index; the published site when there is none (or it
        cannot tell)."""
        if not index_fingerprint:
            return self.site_dir
        try:
            parent = self.site_dir.parent.stat()
            build = (self.site_dir / BUILD_FILE).stat()
            stamp = (parent.st_mtime_ns, build.st_ino, build.st_mtime_ns)
        except OSError:
            return self.site_dir
        if stamp != self._stamp:  # a publish renames folders, which changes the parent's mtime
            self._known = self._scan()
            self._stamp = stamp
        folder = self._known.get(index_fingerprint, self.site_dir)
        if not folder.is_dir():  # renamed within one tick of the parent's clock: look again
            self._known = self._scan()
            folder = self._known.get(index_fingerprint, self.site_dir)
        return folder

    @property
    def previous(self) -> Path:
        return previous_of(self.site_dir)

    def _scan(self) -> dict[str, Path]:
        found: dict[str, Path] = {}
        prefix = f".{self.site_dir.name}.kb-"
        candidates = [self.site_dir] + sorted(
            p for p in self.site_dir.parent.iterdir() if p.name.startswith(prefix) and p.is_dir()
        )
        for folder in candidates:
            fingerprint = read_build_file(folder)
            if fingerprint and fingerprint not in found:
                found[fingerprint] = folder
        return found
