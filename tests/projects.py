"""MkDocs projects for tests: the repository's sample help center copied into a temporary
folder, and `mkdocs build` run on a project exactly as a writer runs it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class SampleBuild:
    project_dir: Path
    site_dir: Path
    index_dir: Path
    log: str


def copy_project(dest: Path) -> Path:
    """A copy of the sample project (content and config, no build outputs) in `dest`."""
    for name in ("docs", "videos"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, dest / name)
    for name in ("mkdocs.yml", "policy.yml"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, dest / name)
    return dest


def mkdocs_build(project_dir: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", *args],
        cwd=project_dir,
        capture_output=True,
        text=True,
        env={**os.environ, "KB_PROGRESS": "0", **(env or {})},
        timeout=1200,
    )


def help_center_yml(site_name: str, *, categories: Mapping[str, str], languages: Iterable[str] = ("en",),
                    markdown_extensions: Iterable[object] = (), **kb: object) -> str:
    """The mkdocs.yml of a small help center built with Material and kb: `categories` make it a
    help center (kb's full checks apply); `kb` adds plugin settings such as `search=False`."""
    plugin = {"languages": list(languages), **kb, "categories": dict(categories)}
    config: dict[str, object] = {"site_name": site_name, "theme": {"name": "material", "font": False},
                                 "plugins": ["search", {"kb": plugin}]}
    if markdown_extensions:
        config["markdown_extensions"] = list(markdown_extensions)
    return yaml.safe_dump(config, sort_keys=False, allow_unicode=True)


def write(root: Path, rel: str, text: str | bytes) -> Path:
    """Write `text` (or bytes) to ``root/rel``, creating its folders."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def write_dedented(root: Path, rel: str, text: str | bytes) -> Path:
    """Write ``text`` (dedented) to ``root/rel``, creating its folders."""
    return write(root, rel, textwrap.dedent(text) if isinstance(text, str) else text)
