"""`kb check`: validate the whole help center and print every problem as path:line: message."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

from kb_tools.cli import project_options
from kb_tools.project import Project


@click.command("check")
@project_options(required=True)
@click.option("--strict", is_flag=True, help="Fail on warnings (stale articles, unknown settings) too.")
def check(project: Callable[[], Project], strict: bool) -> None:
    """Validate articles, videos and policy facts; exit 1 if there is an error."""
    from kb_tools.checks import check_project

    loaded = project()
    report = check_project(loaded)
    for problem in report.problems:
        click.echo(str(problem))
    errors = sum(p.is_error for p in report.problems)
    # The settings' warnings were printed when mkdocs.yml was read; they count here too.
    warnings = len(report.problems) - errors + len(loaded.warnings)
    click.echo(
        f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)} "
        f"in {report.articles} articles and {report.videos} videos",
        err=True,
    )
    if errors or (strict and warnings):
        sys.exit(1)
