"""Which language a page, a path or a text is in, and what the languages are called.

The site's languages come from `plugins > kb > languages` in mkdocs.yml: the first is the
default (articles at the top of docs_dir), every other one has its own folder with the same
paths (`docs/bn/returns/policy.md` translates `docs/returns/policy.md`). Everything that asks
"which language is this" asks here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

#: The name of each language in that language (the language switcher, caption tracks).
LANGUAGE_NAMES = {
    "en": "English", "bn": "বাংলা", "gu": "ગુજરાતી", "hi": "हिन्दी", "ta": "தமிழ்",
    "ur": "اردو", "ar": "العربية", "fr": "Français", "de": "Deutsch", "es": "Español",
}  # fmt: skip

#: The Indic languages we detect by their script, with each script's Unicode block.
SCRIPT_BLOCKS = (
    ("bn", 0x0980, 0x09FF),  # Bengali
    ("gu", 0x0A80, 0x0AFF),  # Gujarati
    ("hi", 0x0900, 0x097F),  # Devanagari
)
INDIC_LANGUAGES = tuple(lang for lang, _, _ in SCRIPT_BLOCKS)


def language_name(lang: str) -> str:
    return LANGUAGE_NAMES.get(lang, lang)


def native_digits(lang: str) -> str | None:
    """The digits 0-9 of the language's script ("০১২৩৪৫৬৭৮৯" for bn), None for Latin digits."""
    for code, first, _ in SCRIPT_BLOCKS:
        if code == lang:  # every Indic block has its digits at the same offset
            return "".join(chr(first + 0x66 + n) for n in range(10))
    return None


def path_language(path: str, languages: Sequence[str]) -> str | None:
    """The language folder a docs path or a site URL is in: "bn/returns/x.md" or
    "/bn/returns/x/" -> "bn" when bn is one of the site's languages but not the default
    (the first); None for a page in the default language."""
    parts = path.replace("\\", "/").lstrip("/").split("/")
    if len(parts) > 1 and parts[0] in languages[1:]:
        return parts[0]
    return None


# Regular expressions count characters in C: this runs over every article of every build.
_SCRIPT_RES = tuple((lang, re.compile(f"[{chr(lo)}-{chr(hi)}]")) for lang, lo, hi in SCRIPT_BLOCKS)
_SCRIPT_LETTERS = {lang: re.compile(f"(?=[{chr(lo)}-{chr(hi)}])[^\\W\\d_]") for lang, lo, hi in SCRIPT_BLOCKS}
_LETTER_RE = re.compile(r"[^\W\d_]")


def detect_script_lang(text: str, default: str = "en") -> str:
    """The language whose script dominates `text` among the Indic scripts we know."""
    counts = {lang: len(pattern.findall(text)) for lang, pattern in _SCRIPT_RES}
    best = max(counts, key=counts.__getitem__)
    # Letters outside the Indic blocks (Latin and any other script) outvote them.
    other = len(_LETTER_RE.findall(text)) - sum(len(p.findall(text)) for p in _SCRIPT_LETTERS.values())
    return best if counts[best] > other else default


@lru_cache(maxsize=1)
def known_language_codes() -> frozenset[str]:
    """Codes a docs folder may be named after: the languages Material for MkDocs has UI labels
    for (its `partials/languages/*.html`), kb's own, and those we name."""
    codes = set(LANGUAGE_NAMES)
    for package in ("material", "kb_tools"):
        try:
            root = Path(__import__(package).__file__).parent  # type: ignore[arg-type]
        except ImportError:
            continue
        codes |= {p.stem for p in (root / "templates" / "partials" / "languages").glob("*.html")}
    return frozenset(codes)
