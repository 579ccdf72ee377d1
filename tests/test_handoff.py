"""The human handoff's settings (KB_CONTACT_*, KB_TIMEZONE): channels in the order shoppers
answer, numbers as people in Bangladesh and India write them, opening hours as a shop writes
them on its door, reply times, and one clear error naming the variable for each mistake."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest

from kb_tools.errors import ServiceError
from kb_tools.service.contacts import (
    WEEK,
    ContactSettings,
    PageHandoff,
    format_phone,
    parse_hours,
    parse_reply_times,
)
from kb_tools.service.settings import ServiceSettings

MON, SAT, SUN = 0, 5 * 1440, 6 * 1440


def test_channels_carry_formatted_numbers_countries_hours_and_reply_times() -> None:
    cfg = ContactSettings.from_env({
        "KB_CONTACT_WHATSAPP": "8801700000000, +91 98765 43210", "KB_CONTACT_PHONE": "+880 9610-000000",
        "KB_CONTACT_EMAIL": "help@nodi.example", "KB_CONTACT_MESSENGER": "https://m.me/nodihome",
        "KB_CONTACT_CHAT_URL": "https://nodi.example/chat", "KB_TIMEZONE": "Asia/Dhaka",
        "KB_CONTACT_HOURS": "Sat-Thu 09:00-21:00; phone=Sun-Thu 10:00-18:00; email=24/7",
        "KB_CONTACT_REPLY_TIME": "whatsapp=15m; email=1d; 2h",
    }).to_config()
    assert cfg["timezone"] == "Asia/Dhaka"
    rows = [(c["channel"], c["label"], c["url"], c["country"], c["reply_min"]) for c in cfg["contacts"]]
    assert rows == [
        ("whatsapp", "+880 1700-000000", "https://wa.me/8801700000000", "BD", 15),
        ("whatsapp", "+91 98765 43210", "https://wa.me/919876543210", "IN", 15),
        ("messenger", "m.me/nodihome", "https://m.me/nodihome", "", 120),
        ("chat", "https://nodi.example/chat", "https://nodi.example/chat", "", 120),
        ("phone", "+880 9610-000000", "tel:+8809610000000", "BD", 120),
        ("email", "help@nodi.example", "mailto:help@nodi.example", "", 1440),
    ]
    hours = {c["channel"]: c["hours"] for c in cfg["contacts"]}
    assert hours["email"] == [[0, WEEK]]
    assert hours["whatsapp"][0] == [MON + 540, MON + 1260] and [SAT + 540, SAT + 1260] in hours["whatsapp"]
    assert len(hours["whatsapp"]) == 6 and all(s // 1440 != 4 for s, _ in hours["whatsapp"])  # no Friday
    assert len(hours["phone"]) == 5 and hours["phone"][-1] == [SUN + 600, SUN + 1080]


def test_hours_past_midnight_and_across_the_week_end() -> None:
    assert parse_hours("Sun 22:00-02:00") == {"": [[0, 120], [SUN + 1320, WEEK]]}
    assert parse_hours("Fri 15:00-20:00, Fri 19:00-23:30") == {"": [[4 * 1440 + 900, 4 * 1440 + 1410]]}
    assert parse_hours("09:00-17:00")[""][0] == [540, 1020]  # no days: every day
    assert parse_hours("") == {}


def test_reply_times() -> None:
    assert parse_reply_times("whatsapp=15 min, email=1 day; 1.5h") == {"whatsapp": 15, "email": 1440, "": 90}


@pytest.mark.parametrize(("env", "message"), [
    ({"KB_CONTACT_HOURS": "Sat-Thu 9-5", "KB_TIMEZONE": "Asia/Dhaka"}, "cannot read 'Sat-Thu 9-5'"),
    ({"KB_CONTACT_HOURS": "Sat-Thu 09:00-21:00"}, "needs KB_TIMEZONE"),
    ({"KB_CONTACT_HOURS": "Sab 09:00-21:00", "KB_TIMEZONE": "Asia/Dhaka"}, "'sab' in 'Sab 09:00-21:00' is not a day"),
    ({"KB_CONTACT_HOURS": "fax=24/7", "KB_TIMEZONE": "UTC"}, "unknown channel 'fax'"),
    ({"KB_CONTACT_HOURS": "09:00-25:00", "KB_TIMEZONE": "UTC"}, "25:00"),
    ({"KB_TIMEZONE": "Dhaka"}, "KB_TIMEZONE='Dhaka' is not a time zone"),
    ({"KB_CONTACT_WHATSAPP": "01700000000"}, "digits with the country code"),
    ({"KB_CONTACT_MESSENGER": "facebook page"}, "the Facebook page's username"),
    ({"KB_CONTACT_EMAIL": "help at nodi"}, "is not an e-mail address"),
    ({"KB_CONTACT_REPLY_TIME": "whatsapp=soon"}, "cannot read 'soon'"),
])
def test_each_mistake_names_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ServiceError, match=re.escape(message)):
        ServiceSettings.from_env(env)


def test_phone_numbers_as_written_in_their_country() -> None:
    assert format_phone("8801700000000") == "+880 1700-000000"
    assert format_phone("919876543210") == "+91 98765 43210"
    assert format_phone("4915112345678") == "+4915112345678"  # others: as given, with +


def test_kb_serve_settings_hold_the_same_handoff() -> None:
    s = ServiceSettings.from_env({"KB_CONTACT_WHATSAPP": "8801712345678", "KB_TIMEZONE": "Asia/Kolkata",
                                  "KB_CONTACT_HOURS": "24/7"})
    assert s.contacts() == {"timezone": "Asia/Kolkata", "contacts": [
        {"channel": "whatsapp", "label": "+880 1712-345678", "url": "https://wa.me/8801712345678",
         "country": "BD", "hours": [[0, WEEK]], "reply_min": None}]}


def test_help_pages_get_the_channels_and_labels_in_their_language() -> None:
    handoff = PageHandoff.from_env({"KB_CONTACT_EMAIL": "help@nodi.example"})
    attrs = handoff.attributes("bn", 'returns"><script>')
    assert ' data-topic="returns&quot;&gt;&lt;script&gt;"' in attrs  # escaped: stays an attribute
    data = json.loads(unescape(attrs.split('data-handoff="')[1].rstrip('"')))
    assert data["contacts"][0]["url"] == "mailto:help@nodi.example"
    assert data["labels"]["still"] == "এখনও সাহায্য দরকার?" and data["labels"]["whatsapp"] == "হোয়াটসঅ্যাপ"
    assert PageHandoff.from_env({}).config["contacts"] == []  # kb serve's /api/config fills in
