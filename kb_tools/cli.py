"""The `kb` command. Thin: each sub-command is imported only when it runs, from the module
that owns it, so `kb check` never pays for importing torch. The options every command shares
live here too (as `common_config_options` in mkdocs/__main__.py)."""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from kb_tools.project import Project

# Set before anything can import tokenizers/transformers or fork workers.
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

COMMANDS = {
    "check": ("kb_tools.content.cli", "check", "Validate articles, videos and policy facts."),
    "search": ("kb_tools.search.cli", "search", "Search the built index."),
    "serve": ("kb_tools.service.cli", "serve", "Serve the site, the search API and the widget."),
    "videos": ("kb_tools.video.cli", "videos", "Process the videos in videos/ (also done by mkdocs build)."),
    "calls": ("kb_tools.analytics.cli", "calls", "Import call and ticket logs."),
    "report": ("kb_tools.analytics.cli", "report", "Write the deflection dashboard."),
    "demo-traffic": ("kb_tools.analytics.cli", "demo_traffic", "Simulate eight weeks of shoppers and calls."),
    "digest": ("kb_tools.analytics.cli", "digest", "E-mail the weekly digest to the support lead."),
}


CONFIG_FILE_HELP = "The site's mkdocs.yml (default: mkdocs.yml in the current folder)."


def project_options(*, required: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`-f/--config-file` for a command that reads the project. The command gets `project`, a
    function that returns the loaded `Project` (read on the first call, once), so a command
    whose flags name every folder it needs never reads mkdocs.yml.

    `required=False`: without `-f` and without mkdocs.yml in the current folder, the defaults
    apply there (for commands that only read build outputs). The old spellings `--config FILE`,
    `--project-dir DIR` and `--project DIR` still work, hidden and with a warning."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(command)
        def run(*args: Any, config_file: Path | None, old_config: Path | None, old_dir: Path | None,
                **kwargs: Any) -> Any:  # fmt: skip
            kwargs["project"] = functools.cache(lambda: _load_project(config_file, old_config, old_dir, required))
            return command(*args, **kwargs)

        options = [
            click.option("-f", "--config-file", "config_file", type=click.Path(dir_okay=False, path_type=Path),
                         default=None, help=CONFIG_FILE_HELP),
            click.option("--config", "old_config", type=click.Path(dir_okay=False, path_type=Path),
                         default=None, hidden=True),
            click.option("--project-dir", "--project", "old_dir", type=click.Path(file_okay=False, path_type=Path),
                         default=None, hidden=True),
        ]  # fmt: skip
        for option in reversed(options):
            run = option(run)
        return run

    return decorate


def _load_project(config_file: Path | None, old_config: Path | None, old_dir: Path | None,
                  required: bool) -> Project:  # fmt: skip
    from kb_tools.project import Project, find_config

    if old_config is not None or old_dir is not None:
        old = "--config FILE" if old_config is not None else "--project-dir/--project DIR"
        click.echo(f"warning: {old} is deprecated: use -f path/to/mkdocs.yml", err=True)
    config_file = config_file or old_config
    if config_file is None and old_dir is not None:
        config_file = find_config(old_dir)
        if config_file is None:  # the old options named a folder whose mkdocs.yml was optional
            return Project.defaults(old_dir)
    project = Project.load(config_file, required=required)
    for problem in project.warnings:
        click.echo(str(problem), err=True)
    return project


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr, _ = COMMANDS[name]
        return getattr(importlib.import_module(module), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in sorted(COMMANDS)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup)
@click.version_option(package_name="kb-tools")
def main() -> None:
    """A help center for online shops: knowledge base, video FAQ, search and analytics."""
