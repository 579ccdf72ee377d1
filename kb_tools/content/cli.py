"""`kb check`: validate the whole help center and print every problem as path:line: message."""

from __future__ import annotations

import sys

import click

from kb_tools.errors import KbError


@click.command("check")
@click.option("--config", "-f", "config_file", default="mkdocs.yml", show_default=True,
              help="The site's mkdocs.yml.")
@click.option("--strict", is_flag=True, help="Fail on warnings (stale articles) too.")
def check(config_file: str, strict: bool) -> None:
    """Validate articles, videos and policy facts; exit 1 if there is an error."""
    from kb_tools.checks import check_project

    try:
        report = check_project(config_file)
    except KbError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    for problem in report.problems:
        click.echo(str(problem))
    errors = sum(p.is_error for p in report.problems)
    warnings = len(report.problems) - errors
    click.echo(
        f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)} "
        f"in {report.articles} articles and {report.videos} videos",
        err=True,
    )
    if errors or (strict and warnings):
        sys.exit(1)
