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


# A three-article help center (returns with a refunds section, delivery with a section on other
# districts, the account): small enough to build in seconds with the real encoder, for the
# tests of what a rebuild re-encodes (chunks, headings).
SMALL_SHOP = {
    "docs/returns.md": """\
        # Returns

        Send the item back within 14 days in its original box.

        ## Refunds

        The refund reaches your card 5 to 7 working days after we receive the item.
        """,
    "docs/delivery.md": """\
        # Delivery

        Orders inside Dhaka arrive the next day.

        ## Outside Dhaka

        Parcels to other districts take two to four days with our courier.
        """,
    "docs/account.md": """\
        # Your account

        Choose Forgot password on the sign-in page and follow the link in the e-mail.
        """,
}


def small_shop(root: Path, model: str) -> Path:
    """:data:`SMALL_SHOP` with a home page and an mkdocs.yml naming ``model``, in ``root``."""
    write(root, "mkdocs.yml", f"site_name: Shop help\nplugins:\n  - search\n  - kb:\n      model: {model}\n")
    write(root, "docs/index.md", "# Help\n\nHow can we help?\n")
    for rel, text in SMALL_SHOP.items():
        write_dedented(root, rel, text)
    return root


def build_in_process(project: Path) -> dict:
    """`mkdocs build` in this process, as each rebuild of `mkdocs serve` runs it; the index's
    manifest."""
    import json

    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    mkdocs_build(load_config(str(project / "mkdocs.yml")))
    return json.loads((project / "search_index" / "manifest.json").read_text(encoding="utf-8"))
