"""`kb calls import`, `kb report` and `kb demo-traffic`: thin commands over kb_tools.analytics."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kb_tools.cli import project_options
from kb_tools.errors import KbError

if TYPE_CHECKING:
    from kb_tools.project import Project

DB_HELP = "Analytics store: an SQLAlchemy URL or an SQLite file (default: KB_DATABASE_URL, else sqlite:///analytics.db)."


def _db_option(f):  # noqa: ANN001, ANN202 - a click decorator
    return click.option("--db", "db", metavar="URL", default=None, help=DB_HELP)(f)


def _store(db: str | None):  # noqa: ANN202
    from kb_tools.analytics.store import EventStore

    return EventStore(db)


def _require_existing(db: str | None) -> None:
    """A report from a store that does not exist would silently create an empty one."""
    import sqlalchemy as sa

    from kb_tools.analytics.store import normalise_url

    url = sa.engine.make_url(normalise_url(db))
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") \
            and not Path(url.database).exists():
        raise KbError(f"no analytics store at {url.database}: point --db (or KB_DATABASE_URL) at the "
                      "store kb serve writes to, or run `kb demo-traffic` to try the report")


def _day(value: str | None, option: str) -> int | None:
    if value is None:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date: use YYYY-MM-DD", param_hint=option) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    from kb_tools.analytics.store import EARLIEST_MS, latest_ms

    ms = int(dt.timestamp() * 1000)
    if not EARLIEST_MS <= ms <= latest_ms() + 366 * 86_400_000:
        raise click.BadParameter(f"{value} is outside the dates a report can cover (2000-01-01 to a year "
                                 "from now): check the year", param_hint=option)
    return ms


def _hours(ctx: click.Context, param: click.Parameter, value: float) -> float:
    if not math.isfinite(value):  # FloatRange lets nan through: every comparison with it is False
        raise click.BadParameter(f"{value} is not a number of hours: give e.g. 24", ctx=ctx, param=param)
    return value


@click.group()
def calls() -> None:
    """Import call and ticket logs."""


@calls.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--skip-bad", is_flag=True, help="Import the good rows of a file with bad ones (and list the bad).")
@_db_option
def import_(files: tuple[Path, ...], skip_bad: bool, db: str | None) -> None:
    """Import CSV call logs: timestamp, topic, channel[, session][, order].

    A file with a bad row is rejected as a whole (nothing imported) unless --skip-bad.
    Importing the same file again adds nothing."""
    from kb_tools.analytics.calls import import_calls

    store = _store(db)
    for path in files:
        result = import_calls(store, path, skip_bad=skip_bad)
        for problem in result.problems:
            click.echo(str(problem), err=True)
        skipped = f", {len(result.problems)} bad row(s) skipped" if result.problems else ""
        dupes = len(result.rows) - result.added
        again = f", {dupes} already imported" if dupes else ""
        click.echo(f"{path}: {result.added} call(s) imported{again}{skipped}")


@click.command()
@click.option("--out", "out", type=click.Path(path_type=Path), default=Path("report"), show_default=True,
              help="Folder for index.html, the CSV files and report.json.")
@click.option("--since", default=None, metavar="YYYY-MM-DD", help="First day (default: the first day with data).")
@click.option("--until", default=None, metavar="YYYY-MM-DD", help="Day after the last (default: after the last data).")
@click.option("--window-hours", type=click.FloatRange(min=0.1, max=24 * 30), default=24.0, show_default=True,
              callback=_hours,
              help="How long after viewing an article a contact still counts against it.")
@click.option("--before-after-weeks", type=click.IntRange(1, 26), default=4, show_default=True,
              help="Weeks compared before and after a publication.")
@click.option("--index", "index_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Search index to match content gaps against (default: the project's, if built).")
@click.option("--site-url", default=None, metavar="URL",
              help="Where the help site lives, for the links to articles (default: site_url in mkdocs.yml).")
@click.option("--no-gaps", is_flag=True, help="Skip the content-gap grouping (no model is loaded).")
@click.option("--title", default="Help center deflection report", show_default=True)
@_db_option
@project_options()
def report(out: Path, since: str | None, until: str | None, window_hours: float, before_after_weeks: int,
           project: Callable[[], Project], index_dir: Path | None, site_url: str | None, no_gaps: bool, title: str,
           db: str | None) -> None:
    """Write the deflection dashboard (HTML that opens with no server, plus CSV and JSON).
    Titles and contact topics of articles and videos come from the project's docs and videos
    folders (mkdocs.yml; without one, the report uses what the events say)."""
    from kb_tools.analytics.metrics import build_report
    from kb_tools.analytics.project import read_content
    from kb_tools.analytics.report import write_report

    since_ms, until_ms = _day(since, "--since"), _day(until, "--until")
    if since_ms is not None and until_ms is not None and until_ms <= since_ms:
        raise click.BadParameter("--until must be after --since", param_hint="--until")
    started = time.perf_counter()
    _require_existing(db)
    store = _store(db)
    rep = build_report(store, since=since_ms, until=until_ms, window_hours=window_hours,
                       before_after_weeks=before_after_weeks, gaps=not no_gaps,
                       content=read_content(project()), languages=project().languages,
                       index_dir=_index_dir(project(), index_dir))
    index = write_report(rep, out, title=title, site_url=site_url if site_url is not None else _site_url(project()))
    k = rep.kpis
    click.echo(f"{index}: {k['sessions']:,} sessions, {k['contacts']:,} contacts, self-service score "
               f"{k['self_service_score'] if k['self_service_score'] is not None else '—'}, "
               f"~{k['est_calls_deflected']:,} calls deflected ({time.perf_counter() - started:.1f} s)")


def _site_url(project: Project) -> str:
    """site_url from mkdocs.yml (a plain line; tags such as !ENV are not evaluated here)."""
    import re

    if project.config_file is None:
        return ""
    try:
        text = project.config_file.read_text(encoding="utf-8")
    except OSError:
        return ""
    m = re.search(r"^site_url:\s*['\"]?([^'\"\s#]+)", text, re.M)
    return m.group(1) if m and m.group(1).startswith(("http://", "https://")) else ""


def _index_dir(project: Project, index_dir: Path | None) -> Path | None:
    """--index, else the project's built index; without one the gaps are not matched."""
    if index_dir is not None:
        if not (index_dir / "manifest.json").exists():
            raise click.BadParameter(f"no search index in {index_dir}: run `mkdocs build` first", param_hint="--index")
        return index_dir
    return project.index_dir if (project.index_dir / "manifest.json").exists() else None


@click.command("demo-traffic")
@click.option("--weeks", type=click.IntRange(5, 52), default=8, show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--scale", type=click.FloatRange(min=0.05, max=100), default=1.0, show_default=True,
              help="Traffic multiplier (1.0 is about 30,000 sessions and 90,000 events in 8 weeks).")
@click.option("--replace", is_flag=True, help="Delete what the store holds first.")
@_db_option
def demo_traffic(weeks: int, seed: int, scale: float, replace: bool, db: str | None) -> None:
    """Simulate shoppers and calls with known effects: the video blender-x2-assembly (week 4)
    cuts calls on its topic by 30 %; the article orders/change-an-order (week 4) does nothing."""
    from kb_tools.analytics.demo import generate
    from kb_tools.analytics.store import events

    store = _store(db)
    if not replace and store.count(events):
        raise KbError(f"{store.safe_url} already holds {store.count(events):,} events: pass --replace to "
                      "delete them and write the demo traffic, or use another --db")
    totals = generate(store, weeks=weeks, seed=seed, scale=scale, replace=replace, progress=True)
    click.echo(f"{store.safe_url}: {totals['sessions']:,} sessions, {totals['events']:,} events, "
               f"{totals['calls']:,} calls over {weeks} weeks")


def _since(value: str, now_ms: int) -> int:
    """`7d`, `2w`, `24h` before now, or a date."""
    import re

    m = re.fullmatch(r"\s*(\d+)\s*([hdw])\s*", value)
    if m:
        n, unit = int(m.group(1)), m.group(2)
        return now_ms - n * {"h": 3_600_000, "d": 86_400_000, "w": 7 * 86_400_000}[unit]
    day = _day(value, "--since")
    assert day is not None
    return day


@click.command()
@click.option("--since", default="7d", show_default=True, metavar="7d|2w|YYYY-MM-DD",
              help="Start of the period: a duration before now, or a date.")
@click.option("--to", "to", multiple=True, metavar="EMAIL", help="Recipient (repeat for several).")
@click.option("--out", "out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the HTML to this file instead of sending it.")
@click.option("--index", "index_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Search index to match content gaps against (default: the project's, if built).")
@click.option("--site-url", default=None, metavar="URL", help="Where the help site lives (default: mkdocs.yml).")
@click.option("--no-gaps", is_flag=True, help="Skip the content-gap grouping (no model is loaded).")
@_db_option
@project_options()
def digest(since: str, to: tuple[str, ...], out: Path | None, project: Callable[[], Project], index_dir: Path | None,
           site_url: str | None, no_gaps: bool, db: str | None) -> None:
    """E-mail the weekly digest (top failing searches, new gaps, articles that improved or
    regressed, stale content) through KB_SMTP_HOST, KB_SMTP_PORT, KB_SMTP_USER,
    KB_SMTP_PASSWORD, KB_SMTP_FROM (KB_SMTP_STARTTLS=1 for STARTTLS, KB_SMTP_SSL=1 for TLS),
    or write it to --out FILE."""
    from kb_tools.analytics.digest import SmtpSettings, render_digest, send_digest
    from kb_tools.analytics.metrics import build_report
    from kb_tools.analytics.project import read_content

    if not to and out is None:
        raise click.UsageError("say where the digest goes: --to EMAIL (sent by SMTP) or --out FILE")
    now_ms = int(time.time() * 1000)
    since_ms = _since(since, now_ms)
    if since_ms >= now_ms:
        raise click.BadParameter("must be in the past", param_hint="--since")
    settings = SmtpSettings.from_env() if out is None else None
    _require_existing(db)
    store = _store(db)
    content = read_content(project())
    index = _index_dir(project(), index_dir)
    current = build_report(store, since=since_ms, until=now_ms, gaps=not no_gaps, content=content, index_dir=index)
    previous = build_report(store, since=current.since - (now_ms - current.since), until=current.since,
                            gaps=not no_gaps, content=content, index_dir=index)
    html = render_digest(current, previous, site_url=site_url if site_url is not None else _site_url(project()))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text(html, encoding="utf-8")
        os.replace(tmp, out)
        click.echo(f"{out}: digest written")
    if to:
        if settings is None:
            settings = SmtpSettings.from_env()
        send_digest(html, list(to), settings, subject=f"Help center digest since {_iso(current.since)}")
        click.echo(f"digest sent to {', '.join(to)} through {settings.host}:{settings.port}")


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).date().isoformat()


@click.group()
def main() -> None:
    """Analytics commands (also available as `kb calls`, `kb report`, `kb demo-traffic`)."""


main.add_command(calls)
main.add_command(report)
main.add_command(demo_traffic)
main.add_command(digest)

if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
