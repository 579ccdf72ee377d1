"""Compiled theme templates kept between builds.

MkDocs makes a new Jinja environment for every build, so every `mkdocs build` and every
`mkdocs serve` rebuild compiles the theme's templates again: for mkdocs-material about fifty
templates, 0.3-0.5 CPU s, a sixth of a rebuild of a small site. The plugin gives that
environment a bytecode cache in the project's cache folder, so a rebuild loads the compiled
code instead.

What is cached cannot show in the output. Jinja files each template's code under its name
and file and the checksum of its source, and uses it only while the source is unchanged.
The code Jinja generates also depends on the environment (its delimiters and whitespace
options, extensions, and which filters and tests exist and what they are passed), so the
cache's folder is named by a digest of those, of Jinja's version and of Python's: a change of
any of them starts a new folder. Writing the cache never fails a build (a read-only or
removed folder only means compiling as before).
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path
from typing import Any

import jinja2
from jinja2.bccache import Bucket, FileSystemBytecodeCache

FOLDER = "templates"  # under the project's cache folder

# Environment options the generated code depends on (jinja2.Environment's arguments).
_OPTIONS = (
    "block_start_string", "block_end_string", "variable_start_string", "variable_end_string",
    "comment_start_string", "comment_end_string", "line_statement_prefix", "line_comment_prefix",
    "trim_blocks", "lstrip_blocks", "newline_sequence", "keep_trailing_newline", "optimized", "is_async",
)  # fmt: skip


def _callable_key(fn: Any) -> str:
    """What the compiler sees of a filter, test, finalize or autoescape: which function it is
    and what Jinja passes it (``pass_context`` and the like change the generated call)."""
    if not callable(fn):
        return repr(fn)
    name = f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', type(fn).__qualname__)}"
    return f"{name}:{getattr(fn, 'jinja_pass_arg', None)}"


def environment_key(env: jinja2.Environment) -> str:
    """A digest of everything besides a template's source that its compiled code depends on."""
    parts = [
        jinja2.__version__,
        sys.version,
        f"{type(env).__module__}.{type(env).__qualname__}",
        *(f"{name}={getattr(env, name, None)!r}" for name in _OPTIONS),
        f"autoescape={_callable_key(env.autoescape)}",
        f"finalize={_callable_key(env.finalize)}",
        "extensions=" + ",".join(sorted(f"{k}:{getattr(v, 'priority', '')}" for k, v in env.extensions.items())),
        "filters=" + ",".join(f"{k}={_callable_key(v)}" for k, v in sorted(env.filters.items())),
        "tests=" + ",".join(f"{k}={_callable_key(v)}" for k, v in sorted(env.tests.items())),
    ]
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:24]


class TemplateCache(FileSystemBytecodeCache):
    """Jinja's file bytecode cache (atomic writes, checksums) that never fails a build."""

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass  # the template was compiled and is used; only the next build compiles it again

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # noqa: BLE001 - a damaged cache file: compile the template as if it were absent
            bucket.reset()


def use_template_cache(env: jinja2.Environment, cache_dir: Path) -> Path | None:
    """Give ``env`` a bytecode cache under ``cache_dir``; folders of other environments (another
    Jinja, Python or theme setup) are removed. Returns the folder, or None when it cannot be made
    (then the templates are compiled as without kb)."""
    root = Path(cache_dir) / FOLDER
    folder = root / environment_key(env)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    for other in root.iterdir():
        if other != folder and other.is_dir():
            shutil.rmtree(other, ignore_errors=True)
    env.bytecode_cache = TemplateCache(str(folder), "%s.jinja")
    return folder
