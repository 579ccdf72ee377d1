"""`kb videos`: validate and process the videos without building the whole site."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kb_tools.cli import project_options

if TYPE_CHECKING:
    from kb_tools.project import Project


@click.command("videos")
@project_options()
@click.option("--site-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also place the outputs under SITE_DIR/videos/<id>/ (default: cache only).")
@click.option("--jobs", type=int, default=None, help="Videos processed at once (default: video_jobs, 0 = cores).")
@click.option("--crf", type=int, default=None, help="H.264 quality (default: video_crf, 23).")
@click.option("--max-height", type=int, default=None, help="Scale taller videos down (default: video_max_height, 720).")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar on stderr.")
@click.option("--prune", is_flag=True, help="Afterwards, delete cache entries no current video uses.")
def videos(project: Callable[[], Project], site_dir: Path | None, jobs: int | None, crf: int | None,
           max_height: int | None, progress: bool, prune: bool) -> None:  # fmt: skip
    """Validate the videos folder's *.yml and captions, then probe and transcode the videos (cached)."""
    loaded = project()
    library = loaded.video_library(crf=crf, max_height=max_height, jobs=jobs)
    if library is None:
        click.echo(f"no videos folder at {loaded.shown(loaded.videos_dir)}: nothing to do "
                   "(videos_dir in mkdocs.yml names it)")  # fmt: skip
        return
    started = time.perf_counter()
    problems = library.load()
    if site_dir is not None:
        problems += library.process(site_dir, progress=progress)
    else:
        problems += library.prepare(progress=progress)
    for problem in sorted(problems):
        click.echo(str(problem), err=True)
    stats = library.stats
    for video_id, (what, seconds) in sorted(stats.videos.items()):
        click.echo(f"  {video_id}: {what} in {seconds:.2f}s")
    click.echo(
        f"{len(library.sources)} video(s): {stats.processed} processed, {stats.cached} from the cache, "
        f"{stats.failed} failed, in {time.perf_counter() - started:.1f}s "
        f"(ffmpeg work {stats.seconds:.1f}s)"
    )
    if prune:
        removed, freed = library.prune()
        click.echo(f"pruned {removed} cache entr{'y' if removed == 1 else 'ies'}, {freed / 1e6:.1f} MB freed")
    if any(p.is_error for p in problems):
        sys.exit(1)
