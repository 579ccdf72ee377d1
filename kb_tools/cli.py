"""The `kb` command. Thin: each sub-command is imported only when it runs, from the module
that owns it, so `kb check` never pays for importing torch."""

from __future__ import annotations

import importlib
import os

import click

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
}


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
