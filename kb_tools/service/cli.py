"""`kb serve`: flags override KB_* environment variables, which override the defaults."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kb_tools.cli import project_options
from kb_tools.service.settings import ENV

if TYPE_CHECKING:
    from kb_tools.project import Project

# These two default to the folders mkdocs.yml names (site_dir, and index_dir of the kb plugin).
FROM_PROJECT = {"site_dir": "site_dir of mkdocs.yml", "index_dir": "index_dir of mkdocs.yml"}


def _help(name: str) -> str:
    from kb_tools.service.settings import ServiceSettings

    var, text = ENV[name]
    default = ServiceSettings.__dataclass_fields__[name].default
    if isinstance(default, tuple):
        default = ",".join(default)
    if name in FROM_PROJECT:
        default = f"{FROM_PROJECT[name]}, else {default}"
    return f"{text} [env {var}; default {default}]"


@click.command("serve")
@project_options()
@click.option("--host", default=None, help=_help("host"))
@click.option("--port", type=int, default=None, help=_help("port"))
@click.option("--site-dir", type=click.Path(path_type=Path), default=None, help=_help("site_dir"))
@click.option("--index-dir", type=click.Path(path_type=Path), default=None, help=_help("index_dir"))
@click.option("--allowed-origins", default=None, help=_help("allowed_origins"))
@click.option("--rate-limit", type=float, default=None, help=_help("rate_limit"))
@click.option("--rate-burst", type=int, default=None, help=_help("rate_burst"))
@click.option("--max-query-length", type=int, default=None, help=_help("max_query_length"))
@click.option("--database-url", default=None, help=_help("database_url"))
@click.option("--demo-shop/--no-demo-shop", default=None, help=_help("demo_shop"))
@click.option("--shop-dir", type=click.Path(path_type=Path), default=None, help=_help("shop_dir"))
@click.option("--reload-interval", type=float, default=None, help=_help("reload_interval"))
@click.option("--cache-size", type=int, default=None, help=_help("cache_size"))
@click.option("--search-threads", type=int, default=None, help=_help("search_threads"))
@click.option("--header-timeout", type=float, default=None, help=_help("header_timeout"))
@click.option("--body-timeout", type=float, default=None, help=_help("body_timeout"))
@click.option("--max-connections", type=int, default=None, help=_help("max_connections"))
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"]))
def serve(project: Callable[[], Project], log_level: str, **flags: object) -> None:
    """Serve the built site, the search API (/api/search), the widget (/widget.js) and the
    event collector (/api/events). Contact channels and the assistant are set with KB_CONTACT_*
    and KB_ASSISTANT_* variables (see the README). A newer index is picked up without a restart."""
    from kb_tools.service.app import create_app
    from kb_tools.service.connections import server
    from kb_tools.service.settings import ServiceSettings

    if isinstance(flags.get("allowed_origins"), str):
        flags["allowed_origins"] = tuple(
            o.strip().rstrip("/") for o in str(flags["allowed_origins"]).split(",") if o.strip())
    for name in FROM_PROJECT:  # the flag, then KB_*, then mkdocs.yml
        if flags.get(name) is None and ENV[name][0] not in os.environ:
            flags[name] = getattr(project(), name)
    settings = ServiceSettings.from_env(**flags)
    if not settings.site_dir.is_dir():
        click.echo(f"warning: site folder '{settings.site_dir}' does not exist: run `mkdocs build` "
                   "first (the API still works)", err=True)
    app = create_app(settings)
    logging.basicConfig(level=log_level.upper(), format="%(levelname)s: %(name)s: %(message)s")
    click.echo(f"kb serve: http://{settings.host}:{settings.port}/  (widget: /widget.js, API: /api/search)")
    if settings.demo_shop:
        click.echo(f"demo shop: http://{settings.host}:{settings.port}/examples/shop/")
    # Read timeouts and a connection cap (service/connections.py): slow or half-open clients
    # cannot hold the server's connections.
    server(app, settings, log_level=log_level, access_log=False).run()
