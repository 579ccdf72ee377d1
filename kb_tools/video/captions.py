"""Captions and chapters: read WebVTT or SRT (with the line of every problem), write WebVTT.

Pure Python, no ffmpeg: caption files are small, and a writer wants `file:line` for a bad cue,
which ffmpeg's subtitle decoder does not give.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from kb_tools.problems import Problem, error
from kb_tools.records import Chapter, Cue

_TIME = r"(?:(\d+):)?([0-5]?\d):([0-5]\d)[.,](\d{1,3})"
_TIMING = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}(?:\s+(.*))?$")
# Anything that looks like a timing line, so a typo is reported as a bad timing, not as text.
_LOOSE_TIMING = re.compile(r"^\s*[\d:.,]*\d\s*-+>|.*-->")
_TAG = re.compile(r"<[^>]*>")
_ASS_TAG = re.compile(r"\{\\[^}]*\}")


@dataclass(frozen=True)
class CaptionCue:
    start: float
    end: float
    text: str  # as written (WebVTT markup such as <i> kept), lines joined by "\n"
    line: int  # line of the timing line in the source file

    @property
    def plain(self) -> str:
        """The words only: tags removed, entities decoded, one line."""
        return " ".join(html.unescape(_TAG.sub("", self.text)).split())


def parse_timestamp(text: str) -> float | None:
    """Sidecar times: "1:05", "01:02.5", "1:02:03.250" -> seconds; None when malformed."""
    m = re.fullmatch(r"(?:(\d+):)?(\d+):([0-5]\d)(?:[.,](\d{1,3}))?", text.strip())
    if not m:
        return None
    return _seconds(m.group(1), m.group(2), m.group(3), m.group(4))


def _seconds(h: str | None, m: str, s: str, frac: str | None) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int((frac or "0").ljust(3, "0")) / 1000


def format_timestamp(seconds: float) -> str:
    ms = max(0, round(seconds * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def read_cues(path: Path, shown: str) -> tuple[list[CaptionCue], list[Problem]]:
    """Read a .vtt or .srt file. `shown` is the path as the writer knows it (for problems)."""
    problems: list[Problem] = []
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return [], [error(shown, 0, f"cannot read the caption file: {exc.strerror}")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return [], [error(shown, line, "not UTF-8 text; save the caption file as UTF-8")]
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    is_vtt = path.suffix.lower() == ".vtt"
    first_content = 0
    if is_vtt:
        if not lines or not (lines[0] == "WEBVTT" or lines[0].startswith(("WEBVTT ", "WEBVTT\t"))):
            return [], [error(shown, 1, "a WebVTT file must start with the line 'WEBVTT'")]
        # The header runs to the first blank line.
        first_content = next((i for i, line in enumerate(lines) if not line.strip()), len(lines))
    cues: list[CaptionCue] = []
    i = first_content
    n = len(lines)
    while i < n:
        if not lines[i].strip():
            i += 1
            continue
        block_start = i
        block: list[str] = []
        while i < n and lines[i].strip():
            block.append(lines[i])
            i += 1
        head = block[0].strip()
        if is_vtt and (head.startswith(("NOTE", "STYLE", "REGION")) and "-->" not in head):
            continue
        # The timing line is the first line, or the second after a cue identifier / SRT number.
        timing_at = next((k for k in (0, 1) if k < len(block) and _LOOSE_TIMING.match(block[k])), -1)
        if timing_at < 0:
            problems.append(
                error(shown, block_start + 1, f"expected a cue timing line like "
                      f"'00:00:01.000 --> 00:00:04.000', found {head[:60]!r}")
            )  # fmt: skip
            continue
        lineno = block_start + timing_at + 1
        m = _TIMING.match(block[timing_at])
        if not m:
            problems.append(
                error(shown, lineno, f"malformed cue timing {block[timing_at].strip()[:60]!r}; "
                      "write it as '00:00:01.000 --> 00:00:04.000'")
            )  # fmt: skip
            continue
        start = _seconds(*m.group(1, 2, 3, 4))
        end = _seconds(*m.group(5, 6, 7, 8))
        body = "\n".join(_ASS_TAG.sub("", t).strip() for t in block[timing_at + 1 :]).strip()
        if end <= start:
            problems.append(
                error(shown, lineno, f"cue ends ({format_timestamp(end)}) before it starts "
                      f"({format_timestamp(start)})")
            )  # fmt: skip
            continue
        if cues and start < cues[-1].start:
            problems.append(
                error(shown, lineno, f"cue starts at {format_timestamp(start)}, before the "
                      f"previous cue (line {cues[-1].line}, {format_timestamp(cues[-1].start)}); "
                      "cues must be in time order")
            )  # fmt: skip
            continue
        if not body:
            problems.append(error(shown, lineno, "cue has no text"))
            continue
        cues.append(CaptionCue(start, end, body, lineno))
    if not cues and not problems:
        problems.append(error(shown, 0, "the caption file has no cues"))
    return cues, problems


def _vtt_text(text: str) -> str:
    # "-->" is not allowed in cue text; a bare "&" or "<" without a tag would break parsers.
    text = text.replace("-->", "→")
    return re.sub(r"&(?![a-zA-Z]+;|#\d+;)", "&amp;", text)


def to_webvtt(cues: list[CaptionCue]) -> str:
    """Normalised WebVTT: header, one blank line between cues, HH:MM:SS.mmm timings."""
    parts = ["WEBVTT", ""]
    for cue in cues:
        parts.append(f"{format_timestamp(cue.start)} --> {format_timestamp(cue.end)}")
        parts.append(_vtt_text(cue.text))
        parts.append("")
    return "\n".join(parts)


def chapters_webvtt(chapters: list[Chapter], duration: float) -> str:
    """A chapters track: each chapter runs to the next one (the last to the end)."""
    parts = ["WEBVTT", ""]
    for n, chapter in enumerate(chapters):
        end = chapters[n + 1].start if n + 1 < len(chapters) else max(duration, chapter.start + 1)
        parts.append(f"chapter-{n + 1}")
        parts.append(f"{format_timestamp(chapter.start)} --> {format_timestamp(end)}")
        parts.append(_vtt_text(chapter.title))
        parts.append("")
    return "\n".join(parts)


def to_records(cues: list[CaptionCue]) -> tuple[Cue, ...]:
    return tuple(Cue(c.start, c.end, c.plain) for c in cues if c.plain)
