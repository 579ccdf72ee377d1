"""The human handoff: the shop's contact channels, their opening hours and reply times.

Read from KB_CONTACT_* variables (and KB_TIMEZONE) by `kb serve`, which serves them to the
widget at /api/config, and by `mkdocs build`, which writes them into the help pages for the
"No" answer to "Was this page helpful?" (kb-feedback.js). Both give the browser the same
object, `ContactSettings.to_config()`; the browser adds the shopper's question to each link
(kb-handoff.js) and decides with its clock whether a channel is open now.

Opening hours (KB_CONTACT_HOURS) are written the way a shop writes them on its door:
`Sat-Thu 09:00-21:00, Fri 15:00-21:00` for every channel, and `phone=Sun-Thu 10:00-18:00`
for one channel; entries are separated by `;`, `24/7` means always open, an end before the
start runs past midnight (`22:00-02:00`). They are turned into minutes of the week (Monday
00:00 = 0) in the shop's time zone (KB_TIMEZONE, an IANA name such as Asia/Dhaka).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kb_tools.errors import ServiceError

CHANNELS = ("whatsapp", "messenger", "phone", "email", "chat")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEK = 7 * 24 * 60

# field -> (environment variable, one-line help). `kb serve` shows the help text too.
ENV: dict[str, tuple[str, str]] = {
    "email": ("KB_CONTACT_EMAIL", "Support e-mail address; the widget pre-fills subject and body."),
    "phone": ("KB_CONTACT_PHONE", "Support phone number(s) with country code, comma-separated "
                                  "(e.g. +8809610000000,+919876543210); shown in the shopper's country's style."),
    "whatsapp": ("KB_CONTACT_WHATSAPP", "WhatsApp number(s), digits with country code, comma-separated "
                                        "(e.g. 8801700000000)."),
    "messenger": ("KB_CONTACT_MESSENGER", "Facebook page username for Messenger (m.me/<page>)."),
    "chat_url": ("KB_CONTACT_CHAT_URL", "Link to a live chat page."),
    "hours": ("KB_CONTACT_HOURS", "Opening hours, e.g. 'Sat-Thu 09:00-21:00; phone=Sun-Thu 10:00-18:00; "
                                  "email=24/7' (needs KB_TIMEZONE)."),
    "reply_time": ("KB_CONTACT_REPLY_TIME", "Usual reply time per channel, e.g. 'whatsapp=15m; messenger=1h; "
                                            "email=1d'."),
    "timezone": ("KB_TIMEZONE", "The shop's time zone for the opening hours (IANA name, e.g. Asia/Dhaka, "
                                "Asia/Kolkata)."),
}

# Country calling codes we format, with their ISO code and national number length.
COUNTRIES = {"880": ("BD", 10), "91": ("IN", 10)}
_TIME = r"(\d{1,2}):(\d{2})"
_RANGE = re.compile(rf"^(?:(?P<d1>[a-z]{{3}})(?:\s*-\s*(?P<d2>[a-z]{{3}}))?\s+)?{_TIME}\s*-\s*{_TIME}$")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(m|min|mins|minutes?|h|hrs?|hours?|d|days?)$")
_MESSENGER = re.compile(r"^(?:https?://)?(?:www\.)?(?:m\.me/)?([A-Za-z0-9.]{3,80})/?$")


@dataclass(frozen=True)
class ContactSettings:
    email: str = ""
    phone: str = ""
    whatsapp: str = ""
    messenger: str = ""
    chat_url: str = ""
    hours: str = ""
    reply_time: str = ""
    timezone: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> ContactSettings:
        """The KB_CONTACT_* and KB_TIMEZONE variables of `environ`, checked."""
        settings = cls(**{name: environ.get(var, "").strip() for name, (var, _) in ENV.items()})
        settings.check()
        return settings

    def check(self) -> None:
        """Raises ServiceError naming the variable and the fix for the first bad value."""
        self.to_config()

    def to_config(self) -> dict[str, Any]:
        """What the browser gets: `{"timezone", "contacts": [{"channel", "label", "url",
        "country", "hours", "reply_min"}]}`. `hours` is a list of [start, end) minutes of the
        week in the shop's time zone (None: no hours given, nothing is said); `reply_min` the
        usual reply time in minutes (None: not given)."""
        hours = parse_hours(self.hours)
        replies = parse_reply_times(self.reply_time)
        if hours and not self.timezone:
            raise ServiceError("KB_CONTACT_HOURS needs KB_TIMEZONE, the shop's time zone "
                               "(e.g. KB_TIMEZONE=Asia/Dhaka or Asia/Kolkata)")
        if self.timezone:
            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ServiceError(f"KB_TIMEZONE={self.timezone!r} is not a time zone: use an IANA "
                                   "name such as Asia/Dhaka or Asia/Kolkata") from None
        out = []
        for channel, label, url, country in self._channels():
            out.append({
                "channel": channel, "label": label, "url": url, "country": country,
                "hours": hours.get(channel, hours.get("")), "reply_min": replies.get(channel, replies.get("")),
            })
        return {"timezone": self.timezone or "UTC", "contacts": out}

    def _channels(self) -> list[tuple[str, str, str, str]]:
        """(channel, label, base url, country) in the order the handoff lists them: the
        channels shoppers in Bangladesh and India answer fastest first."""
        out = []
        for number in _split(self.whatsapp):
            digits = _digits(number, "KB_CONTACT_WHATSAPP", "8801700000000")
            out.append(("whatsapp", format_phone(digits), f"https://wa.me/{digits}", country_of(digits)))
        if self.messenger:
            m = _MESSENGER.match(self.messenger)
            if not m:
                raise ServiceError(f"KB_CONTACT_MESSENGER={self.messenger!r}: give the Facebook page's "
                                   "username, e.g. nodihome (the page's m.me/nodihome link)")
            out.append(("messenger", f"m.me/{m.group(1)}", f"https://m.me/{m.group(1)}", ""))
        if self.chat_url:
            if not re.match(r"^https?://\S+$", self.chat_url):
                raise ServiceError(f"KB_CONTACT_CHAT_URL={self.chat_url!r}: give a full http(s):// link")
            out.append(("chat", self.chat_url, self.chat_url, ""))
        for number in _split(self.phone):
            digits = _digits(number, "KB_CONTACT_PHONE", "+8809610000000")
            out.append(("phone", format_phone(digits), f"tel:+{digits}", country_of(digits)))
        if self.email:
            if not re.match(r"^[^@\s?&]+@[^@\s?&]+\.[^@\s?&]+$", self.email):
                raise ServiceError(f"KB_CONTACT_EMAIL={self.email!r} is not an e-mail address")
            out.append(("email", self.email, f"mailto:{self.email}", ""))
        return out


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _digits(number: str, var: str, example: str) -> str:
    digits = re.sub(r"[\s().-]", "", number).lstrip("+")
    country = next(((code, n) for code, (_, n) in COUNTRIES.items() if digits.startswith(code)), None)
    wrong_length = len(digits) - len(country[0]) != country[1] if country else not 8 <= len(digits) <= 15
    if not digits.isdigit() or wrong_length or number.lstrip().startswith("0"):
        raise ServiceError(f"{var}={number!r}: give the number as digits with the country code, e.g. {example}")
    return digits


def country_of(digits: str) -> str:
    """ISO country of an international number's digits ("880..." -> "BD"), "" if unknown."""
    for code, (country, _) in COUNTRIES.items():
        if digits.startswith(code):
            return country
    return ""


def format_phone(digits: str) -> str:
    """A number as people in its country write it: +880 1700-000000, +91 98765 43210;
    other countries' numbers as +<digits>."""
    for code, (_, length) in COUNTRIES.items():
        national = digits[len(code):]
        if digits.startswith(code) and len(national) == length:
            if code == "880":
                return f"+880 {national[:4]}-{national[4:]}"
            return f"+91 {national[:5]} {national[5:]}"
    return "+" + digits


def parse_hours(text: str) -> dict[str, list[list[int]]]:
    """KB_CONTACT_HOURS -> {channel or "" (every channel): [[start, end), ...] minutes of the week}."""
    out: dict[str, list[list[int]]] = {}
    for entry in filter(None, (e.strip() for e in text.split(";"))):
        channel, spec = _channel_entry(entry, "KB_CONTACT_HOURS")
        if channel in out:
            raise ServiceError(f"KB_CONTACT_HOURS: hours for {channel or 'every channel'} are given twice")
        out[channel] = _week_intervals(spec)
    return out


def _channel_entry(entry: str, var: str) -> tuple[str, str]:
    name, eq, spec = entry.partition("=")
    if not eq:
        return "", entry.strip()
    name = name.strip().lower()
    if name not in CHANNELS:
        raise ServiceError(f"{var}: unknown channel {name!r} in {entry!r}; channels are {', '.join(CHANNELS)}")
    return name, spec.strip()


def _week_intervals(spec: str) -> list[list[int]]:
    if spec.lower() in ("24/7", "always"):
        return [[0, WEEK]]
    minutes: list[list[int]] = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        m = _RANGE.match(part.lower())
        if not m:
            raise ServiceError(f"KB_CONTACT_HOURS: cannot read {part!r}; write days and times like "
                               "'Sat-Thu 09:00-21:00' or 'Fri 15:00-20:00' (24-hour clock), or '24/7'")
        start, end = _minute(m.group(3), m.group(4), part), _minute(m.group(5), m.group(6), part)
        if end == start:
            raise ServiceError(f"KB_CONTACT_HOURS: {part!r} opens and closes at the same time")
        if end < start:
            end += 24 * 60  # runs past midnight
        for day in _days(m.group("d1"), m.group("d2"), part):
            s, e = day * 1440 + start, day * 1440 + end
            if e > WEEK:  # Sunday night into Monday morning
                minutes.append([s, WEEK])
                minutes.append([0, e - WEEK])
            else:
                minutes.append([s, e])
    return _merge(minutes)


def _minute(h: str, m: str, part: str) -> int:
    hour, minute = int(h), int(m)
    if hour > 24 or minute > 59 or (hour == 24 and minute):
        raise ServiceError(f"KB_CONTACT_HOURS: {h}:{m} in {part!r} is not a time of day")
    return hour * 60 + minute


def _days(first: str | None, last: str | None, part: str) -> list[int]:
    if first is None:
        return list(range(7))
    for d in (first, last):
        if d is not None and d not in DAYS:
            raise ServiceError(f"KB_CONTACT_HOURS: {d!r} in {part!r} is not a day; use Mon Tue Wed Thu Fri Sat Sun")
    a = DAYS.index(first)
    b = DAYS.index(last) if last else a
    return [(a + i) % 7 for i in range((b - a) % 7 + 1)]


def _merge(intervals: list[list[int]]) -> list[list[int]]:
    merged: list[list[int]] = []
    for s, e in sorted(intervals):
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return merged


def parse_reply_times(text: str) -> dict[str, int]:
    """KB_CONTACT_REPLY_TIME -> {channel or "": minutes}: 'whatsapp=15m; email=1d' or '2h'."""
    out: dict[str, int] = {}
    for entry in filter(None, (e.strip() for e in re.split(r"[;,]", text))):
        channel, spec = _channel_entry(entry, "KB_CONTACT_REPLY_TIME")
        m = _DURATION.match(spec.lower())
        if not m:
            raise ServiceError(f"KB_CONTACT_REPLY_TIME: cannot read {spec!r}; write e.g. 15m, 2h or 1d")
        unit = {"m": 1, "h": 60, "d": 1440}[m.group(2)[0]]
        out[channel] = max(1, round(float(m.group(1)) * unit))
    return out



# The labels a help page's "No" handoff needs (kb-handoff.js), from the widget's labels.json.
HANDOFF_LABELS = ("still", "contacts_label", "whatsapp", "messenger", "phone", "email", "chat", "open_now",
                  "opens", "reply", "copied", "msg_hello", "msg_question", "msg_read", "msg_topic",
                  "msg_page", "msg_order", "msg_subject", "subject_help")
LABELS_FILE = Path(__file__).resolve().parent.parent / "widget" / "labels.json"


class PageHandoff:
    """What `mkdocs build` writes on the feedback box of a help page: the channels (from the
    same KB_CONTACT_* variables as `kb serve`, when the build has them) and the labels in the
    page's language, as `data-handoff`, and the article's `data-topic`."""

    def __init__(self, contacts: ContactSettings) -> None:
        self.config = contacts.to_config()
        labels = json.loads(LABELS_FILE.read_text(encoding="utf-8"))
        self.labels = {lang: {k: texts.get(k) or labels["en"][k] for k in HANDOFF_LABELS}
                       for lang, texts in labels.items()}

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> PageHandoff:
        return cls(ContactSettings.from_env(environ))

    def attributes(self, lang: str, topic: str = "") -> str:
        data = {**self.config, "labels": self.labels.get(lang, self.labels["en"])}
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        return f' data-topic="{escape(topic)}" data-handoff="{escape(text)}"'
