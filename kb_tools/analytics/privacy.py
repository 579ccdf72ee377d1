"""What the analytics store may keep of what a shopper typed or visited.

- `scrub(text)`: e-mail addresses (also `john@localhost`, a full-width `＠`, an encoded
  `%40`) become `[email]`, phone numbers (7-15 digits, separators, a country code, any
  script's digits) become `[number]`, and links lose their query string and fragment. Ids,
  dates, prices and times are kept: a number glued to letters (`k1-2-3`, `EX123456789BD`) is
  not a phone number.
- `clean_url(url)`: a URL without its query string and fragment (where `?email=` and
  `#access_token=` live).
- `storable(text)`: without the characters a database cannot hold or a report should not
  show (NUL and other control characters, lone surrogates).

Every pattern here runs in linear time: no pattern has two ways to match the same text, and
e-mail addresses are found from their `@` outwards rather than by trying every start. A test
feeds each one 100 kB of the inputs that make backtracking patterns quadratic.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

EMAIL = "[email]"
NUMBER = "[number]"

_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_AT = re.compile(r"[@\uff20\ufe6b]|%40", re.IGNORECASE)
# After the @: labels of letters, digits and hyphens joined by dots. The dot is the only way
# from one label to the next, so there is one way to match.
_DOMAIN = re.compile(r"[^\W_][\w-]*(?:\.[^\W_][\w-]*)*")
_LOCAL_EXTRA = frozenset("._+-'")
# A phone number starts where no word, +, -, / or . comes before it and ends before a word
# character; between its digits at most three of space ( ) . / -. Digits and separators are
# disjoint, so each start is matched one way, and 15 digits at most are tried.
_PHONE = re.compile(r"(?<![\w+\-/.])\+?\(?\d(?:[ ()./\-]{0,3}\d){6,14}(?!\w)")
_DATE = re.compile(r"\d{4}([-/.])\d{1,2}\1\d{1,2}|\d{1,2}([-/.])\d{1,2}\2\d{2,4}")
# A link up to its query string or fragment, and those: the first part always matches, so a
# link is matched once, from its start to the next space.
_LINK = re.compile(r"\b((?:https?|ftp)://[^\s?#]*)(?:[?#]\S*)?", re.IGNORECASE)


def storable(text: str) -> str:
    """`text` without NUL, other control characters (tab and newlines stay) and lone surrogates."""
    return _UNSTORABLE.sub("", text)


def clean_url(url: str) -> str:
    """`url` without query string and fragment; '' when it cannot be parsed."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _emails(text: str) -> str:
    out: list[str] = []
    pos = 0  # text[:pos] is done
    for at in _AT.finditer(text):
        if at.start() < pos:
            continue  # inside an address already replaced
        start = at.start()
        while start > pos and (text[start - 1].isalnum() or text[start - 1] in _LOCAL_EXTRA):
            start -= 1
        while start < at.start() and text[start] in "._-'":  # "...jane@" -> "jane@"
            start += 1
        domain = _DOMAIN.match(text, at.end())
        if start == at.start() or domain is None:
            continue
        out += [text[pos:start], EMAIL]
        pos = domain.end()
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


def _phone(match: re.Match[str]) -> str:
    found = match.group(0)
    return found if _DATE.fullmatch(found) else NUMBER


def scrub(text: str) -> str:
    """Free text a shopper typed (a query, a comment) without their e-mail address, phone
    number or the query strings of the links they pasted."""
    if not text:
        return text
    text = _LINK.sub(r"\1", text)
    if _AT.search(text):
        text = _emails(text)
    return _PHONE.sub(_phone, text)
