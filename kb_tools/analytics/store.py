"""The analytics store: events, imported calls and content metadata, through SQLAlchemy Core.

SQLite (WAL, synchronous=FULL) by default; PostgreSQL when the URL says so, so that several
`kb serve` replicas share one store. The schema is created and migrated by the tool itself:
`schema_version` holds the number of the last applied step of `MIGRATIONS`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from kb_tools.errors import AnalyticsError

DEFAULT_URL = "sqlite:///analytics.db"
# Times the store and the report accept: from 2000-01-01 to a day from now. A call log dated
# 9999-12-31 is a typo, and a report stretched to it would have 416,000 weekly columns.
EARLIEST_MS = 946_684_800_000


def latest_ms() -> int:
    return int(time.time() * 1000) + 86_400_000

metadata = sa.MetaData()

schema_version = sa.Table(
    "schema_version", metadata,
    sa.Column("version", sa.Integer, nullable=False),
)

events = sa.Table(
    "events", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("ts", sa.BigInteger, nullable=False),  # client time, ms since the epoch (UTC)
    sa.Column("name", sa.String(32), nullable=False),
    sa.Column("session", sa.String(64), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("lang", sa.String(16), nullable=False),
    sa.Column("url", sa.String(500), nullable=False),  # page the event happened on (path only)
    sa.Column("page", sa.String(500), nullable=False),  # page the event is about (path only)
    sa.Column("video", sa.String(200)),
    sa.Column("query", sa.String(500)),  # normalised: lower case, single spaces
    sa.Column("results", sa.Integer),
    sa.Column("rank", sa.Integer),
    sa.Column("origin", sa.String(16)),  # page_view's "from"
    sa.Column("helpful", sa.SmallInteger),
    sa.Column("channel", sa.String(16)),
    sa.Column("percent", sa.SmallInteger),
    sa.Column("comment", sa.Text),
    sa.Column("props", sa.Text, nullable=False),
    # A settled search's outcome (NULL for old clients: unknown) and a contact's topic.
    sa.Column("answered", sa.SmallInteger),
    sa.Column("confidence", sa.Float),
    sa.Column("settled", sa.String(8)),
    sa.Column("outcome", sa.String(8)),  # the search event's "next"
    sa.Column("topic", sa.String(100)),
)
_V4_COLUMNS = ("answered", "confidence", "settled", "outcome", "topic")

calls = sa.Table(
    "calls", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("row_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("ts", sa.BigInteger, nullable=False),
    sa.Column("topic", sa.String(100), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("session", sa.String(64)),
    sa.Column("order_ref", sa.String(100)),
)

# Articles and videos the report knows: kind "article" (key = page path) or "video" (key = id).
# `published` is the publication time in ms; NULL means "unknown", and the report then uses the
# first day the item was seen in the events.
content = sa.Table(
    "content", metadata,
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("key", sa.String(500), primary_key=True),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("contact_topic", sa.String(100), nullable=False),
    sa.Column("lang", sa.String(16), nullable=False),
    sa.Column("url", sa.String(500), nullable=False),
    sa.Column("published", sa.BigInteger),
)

# One row per anonymous session, written with its first events: the report counts sessions
# per week from here instead of a COUNT(DISTINCT) over every event.
sessions = sa.Table(
    "sessions", metadata,
    sa.Column("session", sa.String(64), primary_key=True),
    sa.Column("first_ts", sa.BigInteger, nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("lang", sa.String(16), nullable=False),
)
sa.Index("ix_sessions_first_ts", sessions.c.first_ts)

# Indexes are attached to their tables, so `table.create()` makes them too.
_INDEXES = [
    # Covering for "first view of each (session, page)", the report's biggest scan.
    sa.Index("ix_events_name_ts", events.c.name, events.c.ts, events.c.session, events.c.page),
    sa.Index("ix_events_session_name_ts", events.c.session, events.c.name, events.c.ts),
    sa.Index("ix_events_ts", events.c.ts),
    sa.Index("ix_calls_ts_topic", calls.c.ts, calls.c.topic),
    sa.Index("ix_calls_session", calls.c.session),
]
# Added by migration 6 (a store created earlier gets them then).
_V6_INDEXES = [
    # Counts per event name, language and week (the per-language table), from the index alone.
    sa.Index("ix_events_name_ts_lang", events.c.name, events.c.ts, events.c.lang),
    # Settled searches only, with every column the search tables and the gap query read: no
    # table lookup per search at a million events. (`name` leads so that SQLite's planner, which
    # has no statistics, prefers it to ix_events_name_ts for the same range.)
    sa.Index("ix_events_search", events.c.name, events.c.ts, events.c.lang, events.c.query, events.c.answered,
             events.c.outcome, events.c.results, events.c.session,
             sqlite_where=events.c.name == "search", postgresql_where=events.c.name == "search"),
]


def _v1(conn: Connection) -> None:
    for table in (events, calls, content):
        table.create(conn, checkfirst=True)


def _v2(conn: Connection) -> None:
    sessions.create(conn, checkfirst=True)  # with its index ix_sessions_first_ts
    first = (sa.select(events.c.session, sa.func.min(events.c.ts), sa.func.min(events.c.source),
                       sa.func.min(events.c.lang)).group_by(events.c.session))
    conn.execute(sa.insert(sessions).from_select(["session", "first_ts", "source", "lang"], first))


# Sentence embeddings of searched queries, so that a report embeds only queries it has not
# seen before and usually needs no model at all.
query_vectors = sa.Table(
    "query_vectors", metadata,
    sa.Column("model", sa.String(200), primary_key=True),
    sa.Column("query", sa.String(500), primary_key=True),
    sa.Column("vector", sa.LargeBinary, nullable=False),  # float32, little-endian
)


def _v3(conn: Connection) -> None:
    query_vectors.create(conn, checkfirst=True)


def _v4(conn: Connection) -> None:
    """The settled-search outcome and the contact's topic (issue 15). A store created by this
    version already has them (its events table comes from the current metadata)."""
    have = {c["name"] for c in sa.inspect(conn).get_columns("events")}
    for name in _V4_COLUMNS:
        if name not in have:
            column = events.c[name]
            conn.execute(sa.text(f"ALTER TABLE events ADD COLUMN {name} {column.type.compile(conn.dialect)}"))


# Ids of the event batches stored: a client that did not hear the 204 sends the same batch
# again, and it is stored once. Retries come within minutes; ids older than a day are pruned.
event_batches = sa.Table(
    "event_batches", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("stored_at", sa.BigInteger, nullable=False),  # server time, ms
)
sa.Index("ix_event_batches_stored_at", event_batches.c.stored_at)
BATCH_IDS_KEPT_MS = 86_400_000


def _v5(conn: Connection) -> None:
    """Batch ids, so a batch sent twice is stored once (issue 11.10)."""
    event_batches.create(conn, checkfirst=True)


def _v6(conn: Connection) -> None:
    """Indexes that let the report aggregate a million events in the index (issue 15)."""
    for index in _V6_INDEXES:
        index.create(conn, checkfirst=True)


# Ordered, append-only: never edit a released step, add a new one.
MIGRATIONS: list[Callable[[Connection], None]] = [_v1, _v2, _v3, _v4, _v5, _v6]


def normalise_url(url: str | None) -> str:
    """`--db` and KB_DATABASE_URL accept an SQLAlchemy URL or a plain SQLite file path."""
    url = (url or os.environ.get("KB_DATABASE_URL") or DEFAULT_URL).strip()
    if "://" not in url:
        return f"sqlite:///{url}"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


class EventStore:
    """One analytics database. Thread-safe (SQLAlchemy's pool); create one per process."""

    def __init__(self, url: str | None = None, *, busy_timeout: float = 30.0) -> None:
        """`busy_timeout`: seconds a write waits for another process's SQLite write lock
        before it fails."""
        self.url = normalise_url(url)
        self.busy_timeout = busy_timeout
        self._pruned_at = 0
        try:
            parsed = sa.engine.make_url(self.url)
        except sa.exc.ArgumentError:
            raise AnalyticsError(
                f"database URL {self.url!r} is not valid: use sqlite:///analytics.db or "
                "postgresql+psycopg://user@host/dbname (KB_DATABASE_URL or --db)"
            ) from None
        self.dialect = parsed.get_backend_name()
        if self.dialect not in ("sqlite", "postgresql"):
            raise AnalyticsError(f"database URL {self.url!r}: only SQLite and PostgreSQL are supported")
        self.engine = self._create_engine(parsed)
        self.migrate()

    def _create_engine(self, parsed: sa.engine.URL) -> Engine:
        if self.dialect == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            sync = os.environ.get("KB_SQLITE_SYNCHRONOUS", "FULL").upper()
            if sync not in ("FULL", "NORMAL"):
                raise AnalyticsError(f"KB_SQLITE_SYNCHRONOUS={sync!r}: use FULL (default) or NORMAL")
            engine = sa.create_engine(parsed, connect_args={"timeout": self.busy_timeout, "check_same_thread": False})

            @sa.event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn: Any, _record: Any) -> None:
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                # FULL: a transaction we acknowledged survives a power cut, not only kill -9
                # (NORMAL in WAL mode survives kill -9 too; bench_analytics.py compares them).
                cur.execute(f"PRAGMA synchronous={sync}")
                cur.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
                # The report probes indexes of a large file at random: read it through mmap
                # and a bigger page cache rather than one small read() per page.
                cur.execute("PRAGMA mmap_size=1073741824")
                cur.execute("PRAGMA cache_size=-65536")
                cur.close()

            return engine
        return sa.create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=5)

    def _fail(self, e: Exception, doing: str) -> AnalyticsError:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return AnalyticsError(f"analytics store {self.safe_url}: {doing} failed: {first}")

    @property
    def safe_url(self) -> str:
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

    # -- schema -----------------------------------------------------------------------------
    def migrate(self, _retry: bool = True) -> int:
        """Create or upgrade the schema; return the version. Safe with replicas starting
        together: PostgreSQL takes an advisory lock; on SQLite a process that loses the race
        to create a table tries once more and then finds it."""
        try:
            with self.engine.begin() as conn:
                if self.dialect == "postgresql":
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(727274)"))
                schema_version.create(conn, checkfirst=True)
                current = conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar() or 0
                if current > len(MIGRATIONS):
                    raise AnalyticsError(
                        f"analytics store {self.safe_url} has schema version {current}, newer than this "
                        f"kb-tools ({len(MIGRATIONS)}): upgrade kb-tools"
                    )
                for version in range(current + 1, len(MIGRATIONS) + 1):
                    MIGRATIONS[version - 1](conn)
                    conn.execute(sa.delete(schema_version))
                    conn.execute(sa.insert(schema_version).values(version=version))
                return len(MIGRATIONS)
        except SQLAlchemyError as e:
            if _retry and self.dialect == "sqlite":
                return self.migrate(_retry=False)
            raise self._fail(e, "creating the schema") from None

    # -- writes ------------------------------------------------------------------------------
    def add_events(self, rows: Sequence[dict[str, Any]]) -> int:
        """Insert event rows (from `events.parse_request`) in one transaction."""
        if not rows:
            return 0
        try:
            with self.engine.begin() as conn:
                return self._insert_events(conn, rows)
        except SQLAlchemyError as e:
            raise self._fail(e, "writing events") from None

    def add_batches(self, batches: Sequence[tuple[str | None, Sequence[dict[str, Any]]]]) -> list[int | AnalyticsError]:
        """Store each `(batch id, rows)` of several requests: together in one transaction (group
        commit), or, when that transaction fails, each in a transaction of its own, so a batch
        the database refuses fails alone. A batch whose id is already stored adds nothing.
        Returns per batch the number of events stored, or the error that stopped it."""
        try:
            with self.engine.begin() as conn:
                return [self._insert_batch(conn, batch_id, rows) for batch_id, rows in batches]
        except sa.exc.OperationalError as e:  # locked or unreachable: no batch can be stored now
            return [self._fail(e, "writing events")] * len(batches)
        except SQLAlchemyError as e:  # refused: one of the batches, or all of them
            if len(batches) == 1:
                return [self._fail(e, "writing events")]
        results: list[int | AnalyticsError] = []
        for batch_id, rows in batches:
            try:
                with self.engine.begin() as conn:
                    results.append(self._insert_batch(conn, batch_id, rows))
            except SQLAlchemyError as e:
                results.append(self._fail(e, "writing events"))
        return results

    def _insert_batch(self, conn: Connection, batch_id: str | None, rows: Sequence[dict[str, Any]]) -> int:
        if batch_id is not None:
            now = int(time.time() * 1000)
            if now - self._pruned_at > 3_600_000:
                self._pruned_at = now
                conn.execute(sa.delete(event_batches).where(event_batches.c.stored_at < now - BATCH_IDS_KEPT_MS))
            new = conn.execute(self._insert_ignore(event_batches, "id"), {"id": batch_id, "stored_at": now})
            if new.rowcount == 0:
                return 0  # this batch was stored before: a retry
        return self._insert_events(conn, rows)

    def _insert_events(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> int:
        if not rows:
            return 0
        first: dict[str, dict[str, Any]] = {}
        for r in rows:
            seen = first.get(r["session"])
            if seen is None or r["ts"] < seen["first_ts"]:
                first[r["session"]] = {"session": r["session"], "first_ts": r["ts"],
                                       "source": r["source"], "lang": r["lang"]}
        conn.execute(sa.insert(events), list(rows))
        conn.execute(self._insert_ignore(sessions, "session"), list(first.values()))
        return len(rows)

    def _insert_ignore(self, table: sa.Table, key: str | list[str]) -> Any:
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert(table).on_conflict_do_nothing(index_elements=[key] if isinstance(key, str) else key)

    def add_calls(self, rows: Sequence[dict[str, Any]]) -> int:
        """Insert call rows, skipping those whose row_hash is already stored. Returns how many
        were new. All or nothing."""
        if not rows:
            return 0
        stmt = self._insert_ignore(calls, "row_hash")
        count = sa.select(sa.func.count()).select_from(calls)
        try:
            with self.engine.begin() as conn:
                before = conn.execute(count).scalar_one()
                conn.execute(stmt, list(rows))
                return conn.execute(count).scalar_one() - before
        except SQLAlchemyError as e:
            raise self._fail(e, "writing calls") from None

    def set_content(self, items: Iterable[dict[str, Any]]) -> None:
        """Replace the content metadata (articles and videos with topic and publish time)."""
        items = list(items)
        try:
            with self.engine.begin() as conn:
                conn.execute(sa.delete(content))
                if items:
                    conn.execute(sa.insert(content), items)
        except SQLAlchemyError as e:
            raise self._fail(e, "writing content metadata") from None

    def clear(self) -> None:
        """Delete every event, call and content row (demo traffic --replace)."""
        try:
            with self.engine.begin() as conn:
                for table in (events, sessions, calls, content, event_batches):  # query_vectors stay: not data
                    conn.execute(sa.delete(table))
        except SQLAlchemyError as e:
            raise self._fail(e, "clearing the store") from None

    # -- reads -------------------------------------------------------------------------------
    def count(self, table: sa.Table = events) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()

    def connect(self) -> Connection:
        return self.engine.connect()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
