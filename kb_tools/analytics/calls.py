"""Import call-centre and ticket logs (CSV) so the report can compare calls with help-center use.

Columns (a header row is required, order is free): `timestamp` (ISO 8601; no offset means UTC),
`topic` (a contact_topic label such as `returns`), `channel` (phone, email, chat, whatsapp or
ticket), and optionally `session` (the anonymous session id, when the agent captured it) and
`order` (an order reference). A file with a bad row is rejected as a whole unless `skip_bad`.
Importing the same file twice adds nothing: each row is stored under a hash of its values.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kb_tools.analytics.store import EARLIEST_MS, EventStore, latest_ms
from kb_tools.errors import AnalyticsError
from kb_tools.problems import Problem, error

CALL_CHANNELS = ("phone", "email", "chat", "whatsapp", "ticket")
REQUIRED = ("timestamp", "topic", "channel")
OPTIONAL = ("session", "order")
_TOPIC = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
_SESSION = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
MAX_FILE_BYTES = 200 * 1024 * 1024


@dataclass
class CallImport:
    """What an import found: rows to store and the problems of the others."""

    path: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    added: int = 0


def parse_timestamp(raw: str) -> int:
    """ISO 8601 -> ms since the epoch (UTC). Raises ValueError."""
    value = raw.strip()
    if not value or not value[0].isdigit():
        raise ValueError(value)
    dt = datetime.fromisoformat(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def _records(handle: Iterable[str]) -> Iterator[tuple[int, list[str] | None, str]]:
    """(first line, values, problem) for each CSV record. A quoted value may span lines, but a
    quote left open does not swallow the rest of the file: when the lines it joined do not
    make one record, that line alone is reported and the lines after it are read again."""
    lines = iter(enumerate(handle, start=1))
    again: list[tuple[int, str]] = []
    while True:
        first = again.pop() if again else next(lines, None)
        if first is None:
            return
        chunk = [first]
        quotes = first[1].count('"')
        while quotes % 2:
            more = again.pop() if again else next(lines, None)
            if more is None:
                break
            chunk.append(more)
            quotes += more[1].count('"')
        try:
            rows = list(csv.reader(text for _, text in chunk))
        except csv.Error as e:
            rows, problem = [], f"unreadable CSV: {e}"
        else:
            problem = ""
        if len(rows) == 1 and not quotes % 2:
            yield first[0], rows[0], ""
            continue
        if len(chunk) > 1:
            again.extend(reversed(chunk[1:]))
        yield first[0], None, problem or ("a quote (\") opens a value that never closes: close it or remove "
                                          "it (the lines after it were read on their own)")


def read_calls(path: Path, display: str | None = None) -> CallImport:
    """Parse and validate a call log; never touches the store."""
    shown = display or str(path)
    result = CallImport(shown)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise AnalyticsError(f"{shown}: larger than {MAX_FILE_BYTES // 2**20} MB: split the file")
        handle = path.open(newline="", encoding="utf-8-sig")
    except FileNotFoundError:
        raise AnalyticsError(f"{shown}: no such file: give the path of a CSV call log") from None
    except OSError as e:
        raise AnalyticsError(f"{shown}: cannot read: {e.strerror}") from None
    with handle:
        records = _records(handle)
        try:
            line, header, problem = next(records, (1, None, "empty file"))
        except UnicodeDecodeError as e:
            raise AnalyticsError(f"{shown}:1: not a UTF-8 CSV file: {e}") from None
        if header is None:
            if problem == "empty file":
                raise AnalyticsError(f"{shown}:1: empty file: the first row must name the columns "
                                     f"{', '.join(REQUIRED)} (and optionally {', '.join(OPTIONAL)})")
            raise AnalyticsError(f"{shown}:{line}: {problem}")
        cols = [h.strip().lower() for h in header]
        if "order_ref" in cols and "order" not in cols:
            cols[cols.index("order_ref")] = "order"
        missing = [c for c in REQUIRED if c not in cols]
        if missing:
            raise AnalyticsError(
                f"{shown}:1: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}: the header "
                f"must name {', '.join(REQUIRED)} (optional: {', '.join(OPTIONAL)}); found {', '.join(cols) or 'nothing'}"
            )
        index = {c: cols.index(c) for c in (*REQUIRED, *OPTIONAL) if c in cols}
        seen: Counter[str] = Counter()
        try:
            for line, values, problem in records:
                if values is None:
                    result.problems.append(error(shown, line, problem))
                    continue
                if not any(v.strip() for v in values):
                    continue
                row, bad = _parse_row(values, index, shown, line, len(cols))
                if bad is not None:
                    result.problems.append(bad)
                    continue
                assert row is not None
                key = "\x1f".join(str(row[k] or "") for k in ("ts", "topic", "channel", "session", "order_ref"))
                seen[key] += 1
                # Identical rows in one file are distinct calls; the occurrence number keeps them
                # apart while a second import of the same file still hashes to the same values.
                row["row_hash"] = hashlib.sha256(f"{key}\x1f{seen[key]}".encode()).hexdigest()
                result.rows.append(row)
        except UnicodeDecodeError as e:
            result.problems.append(error(shown, line + 1, f"not UTF-8 text: {e.reason}: save the file as UTF-8"))
    return result


def _parse_row(values: list[str], index: dict[str, int], shown: str, line: int,
               width: int) -> tuple[dict[str, Any] | None, Problem | None]:
    def get(col: str) -> str:
        i = index.get(col)
        return values[i].strip() if i is not None and i < len(values) else ""

    if len(values) < width:
        return None, error(shown, line, f"{len(values)} columns where the header has {width}: "
                           "check for a missing comma or an unquoted comma in a value")
    raw_ts = get("timestamp")
    try:
        ts = parse_timestamp(raw_ts)
    except ValueError:
        return None, error(shown, line, f"bad timestamp {raw_ts!r}: use ISO 8601 like 2026-03-01T14:05:00")
    if ts < EARLIEST_MS:
        return None, error(shown, line, f"timestamp {raw_ts} is before 2000-01-01: check the year")
    if ts > latest_ms():
        return None, error(shown, line, f"timestamp {raw_ts} is in the future: a call log holds calls that "
                           "happened; check the year")
    topic = get("topic")
    if not _TOPIC.match(topic):
        return None, error(shown, line, f"bad topic {topic!r}: use a contact_topic label like "
                           "returns or order-tracking (lower case, digits, - and _)")
    channel = get("channel").lower()
    if channel not in CALL_CHANNELS:
        return None, error(shown, line, f"bad channel {channel!r}: use one of {', '.join(CALL_CHANNELS)}")
    session = get("session")
    if session and not _SESSION.match(session):
        return None, error(shown, line, f"bad session {session!r}: the session id from the help "
                           "center is 16-64 letters, digits, - or _ (leave it empty if unknown)")
    order_ref = get("order")
    if len(order_ref) > 100:
        return None, error(shown, line, "order reference longer than 100 characters")
    return {"ts": ts, "topic": topic, "channel": channel, "session": session or None,
            "order_ref": order_ref or None}, None


def import_calls(store: EventStore, path: Path, *, skip_bad: bool = False,
                 display: str | None = None) -> CallImport:
    """Validate `path` and store its rows. With problems and not `skip_bad`, raise
    AnalyticsError listing every bad row and store nothing."""
    result = read_calls(path, display)
    if result.problems and not skip_bad:
        listing = "\n".join(str(p) for p in result.problems[:50])
        more = f"\n... and {len(result.problems) - 50} more" if len(result.problems) > 50 else ""
        raise AnalyticsError(
            f"{listing}{more}\n{result.path}: {len(result.problems)} bad row(s), nothing imported: fix "
            "them or pass --skip-bad to import the good rows"
        )
    result.added = store.add_calls(result.rows)
    return result
