"""Unicode-correct tokens for English, Bengali, Gujarati and Hindi help pages.

Python's ``\\w`` does not match combining marks, so whoosh's default tokenizer cuts Indic
words apart at every vowel sign and virama (``পণ্য`` becomes ``পণ``). Here a token is a run
of letters, combining marks, digits and ZWJ/ZWNJ, after NFC normalisation. Then:

* case folding; digits of any script become ASCII digits (``৭`` == ``7``);
* Latin-script words are stemmed with the English Porter stemmer (:func:`english_stem`), but
  for the few words whose stem would join a shop's unrelated words (:data:`STEM_OVERRIDES`); a
  Bengali or Gujarati word is never fed to it;
* Bengali, Gujarati and Devanagari words lose one common inflectional suffix
  (``ফেরতের`` -> ``ফেরত``, ``ઓર્ડરની`` -> ``ઓર્ડર``), a light stemmer that keeps at least two
  letters of the stem that are not one conjunct, and leaves no virama dangling.

The same function analyses pages at index time, queries at search time and snippet text,
so all three agree on what a word is.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from whoosh.analysis import Token, Tokenizer
from whoosh.lang.porter import stem as _porter_stem

from kb_tools.content.languages import INDIC_LANGUAGES, SCRIPT_BLOCKS


def _mark_ranges() -> str:
    # Combining marks live in planes 0, 1 and 14 only; scanning those takes ~30 ms once.
    chars: list[str] = []
    for start, stop in ((0, 0x20000), (0xE0000, 0xE0200)):
        for cp in range(start, stop):
            if unicodedata.category(chr(cp))[0] == "M":
                chars.append(chr(cp))
    # Collapse into ranges for a compact character class.
    out: list[str] = []
    i = 0
    while i < len(chars):
        j = i
        while j + 1 < len(chars) and ord(chars[j + 1]) == ord(chars[j]) + 1:
            j += 1
        a, b = chars[i], chars[j]
        out.append(re.escape(a) if a == b else f"{re.escape(a)}-{re.escape(b)}")
        i = j + 1
    return "".join(out)


# [^\W_] is "letter or digit" (str.isalnum) in Python's Unicode re; marks and ZWNJ/ZWJ added.
WORD_RE = re.compile(f"(?:[^\\W_]|[{_mark_ranges()}\u200c\u200d])+")
# The same words in a text whose letters and digits are all ASCII (English, with its dashes,
# arrows and ₹ signs: no mark, no joiner), in about a quarter of WORD_RE's time.
_ASCII_WORD_RE = re.compile("[A-Za-z0-9]+")
_NON_ASCII_RE = re.compile("[^\x00-\x7f]")


def _ascii_words(text: str) -> bool:
    """Every letter, digit, mark and joiner of ``text`` is ASCII: _ASCII_WORD_RE finds the
    words WORD_RE does. A Bengali or Gujarati text fails at its first letter."""
    for m in _NON_ASCII_RE.finditer(text):
        ch = m.group()
        if ch.isalnum() or ch in "\u200c\u200d" or unicodedata.category(ch)[0] == "M":
            return False
    return True

# Words a shopper adds to be polite, in a question of any language typed in Latin letters: no
# page's topic, and neither the language it is in ("refund er taka kobe pabo pls" is Banglish)
# nor words to read in another script ("pls" in a Banglish question was read প্লস, "place").
COURTESY = frozenset("please pls plz plzz plss plese kindly thanks thank thx tnx".split())
# How a chat message to a shop opens or closes ("hi, where is my order", "hello sir ...",
# "... kab milega sir"): taken off the ends of a question only, where they address the shop.
# "sir" opens a question alone only before a comma ("sir dard" is a headache), and "bhai",
# "vai", "apu" stay: as often what the question is about (a gift for a brother).
_ADDRESS = r"(?:sir|madam|mam|maam)"
_GREETING = re.compile(
    rf"^\W*(?:(?:hi+|hello+|helo|hey+|dear|good (?:morning|evening|afternoon))\b\W*)+(?:{_ADDRESS}\b)?\W*"
    rf"|^\W*{_ADDRESS}\s*[,!.:]\W*"  # "sir, ..."; "sir dard" (Hindi: a headache) stays
    rf"|\W+{_ADDRESS}\b(?=\W*$)",  # its own mark stays: "... order sir?" -> "... order?"
    re.IGNORECASE)


def without_greeting(text: str) -> str:
    """``text`` without the greeting that opens it or the "sir" that closes it, or ``text`` when
    nothing else is left ("hello" alone is no question, and is not answered as one)."""
    rest = _GREETING.sub("", text).strip()
    return rest if any(ch.isalnum() for ch in rest) else text

ENGLISH_STOP_WORDS = frozenset(
    """a an and are as at be been but by can could did do does for from had has have how i
    if in into is it its me my of on or our so than that the their them then there these they
    this to was we were what when where which who why will with would you your""".split()
)

# The Indic scripts are content's (kb_tools.content.languages); Devanagari Extended (Vedic
# marks, a few letters) counts as Devanagari here too.
_INDIC_BLOCKS = (*SCRIPT_BLOCKS, ("hi", 0xA8E0, 0xA8FF))
_FIRST_INDIC = min(first for _, first, _ in _INDIC_BLOCKS)


def script_of(ch: str) -> str:
    """The Indic language whose script ``ch`` is in (INDIC_LANGUAGES: 'bn' Bengali, 'gu'
    Gujarati, 'hi' Devanagari), else 'latin' or 'other'."""
    cp = ord(ch)
    if cp >= _FIRST_INDIC:
        for lang, first, last in _INDIC_BLOCKS:
            if first <= cp <= last:
                return lang
    if cp < 0x0250 or 0x1E00 <= cp <= 0x1EFF:
        return "latin" if ch.isalpha() else "other"
    return "other"


def detect_script(text: str) -> str | None:
    """The dominant Indic script of a query (one of INDIC_LANGUAGES) or None (Latin / other)."""
    counts = dict.fromkeys((*INDIC_LANGUAGES, "latin"), 0)
    for ch in text:
        s = script_of(ch)
        if s in counts:
            counts[s] += 1
    indic = max(INDIC_LANGUAGES, key=lambda s: counts[s])
    if counts[indic] and counts[indic] >= counts["latin"] * 0.5:
        return indic
    return None


# Longest first within each list. Single consonant suffixes (Bengali "র") are left out on
# purpose: "অর্ডার" (order) itself ends in "র", stripping it would split order/orders.
_SUFFIXES: dict[str, tuple[str, ...]] = {
    "bn": (
        "গুলোকে", "গুলোর", "গুলির", "গুলো", "গুলি", "দেরকে", "য়েরা", "দের", "য়ের", "টিকে",
        "টাকে", "টির", "টার", "খানা", "েরা", "েতে", "ের", "কে", "তে", "রা", "টি", "টা", "য়",
        "ে", "ী",
    ),
    "gu": (
        "ઓમાંથી", "માંથી", "ઓમાં", "ઓનું", "ઓની", "ઓના", "ઓનો", "ઓને", "ઓથી", "માં", "નું", "નાં", "થી", "ઓ", "નો",
        "ની", "ના", "ને", "એ", "ે", "ો", "ી", "ા",
    ),
    "hi": (
        "ियों", "ियाँ", "ियां", "ाओं", "ाएँ", "ाएं", "ों", "ें", "ाँ", "ां", "ी", "े", "ो", "ा",
    ),
}


# A genitive "র" typed onto a word that ends in ি (ডেলিভারি, সিটি, পলিসি: the loanwords of
# shopping): ডেলিভারির "of the delivery". After ি "র" is seldom the word's own; after া it
# is as often (অর্ডার), after ী too (শরীর).
_BN_GENITIVE_R = re.compile("(?<=\u09bf)\u09b0$")


def _letters(word: str) -> int:
    return sum(1 for ch in word if unicodedata.category(ch) == "Lo")


@lru_cache(maxsize=100_000)
def indic_stem(word: str, script: str) -> str:
    """Strip one inflectional suffix, keeping a stem of at least two syllables' letters."""
    if script == "bn" and _BN_GENITIVE_R.search(word) and _letters(word) >= 3:
        word = word[:-1]
    return _strip_one(word, _SUFFIXES.get(script, ()))


# Endings the stemmer leaves on because they are as often a word's own letters, but which a
# shopper's word may carry where the pages' word does not: the genitive "র" after a vowel
# (ঢাকার, টাকার, পাঠানোর; অর্ডার, নম্বর and এরর "error" end in a র of their own) and the
# emphatic ই / ও ("also", "only": নম্বরও, আগেই); the Gujarati neuter ું and neuter plural ાં,
# which the stemmer leaves on while it strips the other genders' ો ી ા (કરવું, કરવા -> કરવ;
# પાછું, પાછાં, પાછા -> પાછ). Only other_forms reads them.
_OWN_OR_ENDING: dict[str, tuple[str, ...]] = {"bn": ("ই", "ও"), "gu": ("ું", "ાં")}
_BN_VOWEL_GENITIVE = re.compile("(?<=[\u0985-\u0994\u09be-\u09cc\u09d7])\u09b0$")


def other_forms(raw: str) -> tuple[str, ...]:
    """The analysed forms another inflection of ``raw`` (a Bengali, Gujarati or Devanagari word
    as typed, NFC) may take in the pages: ``raw`` less one ending of its script, and that stem
    analysed as a bare word (ડિલિવરીનો -> ડિલિવરી, which a bare word analyses to ડિલિવર;
    ব্যাংকে -> ব্যাংক, where the stemmer cut -কে: ব্যাং), or ``raw`` with one ending more,
    analysed (ঢাকা -> ঢাকার). One suffix list cannot tell an ending from a word's own letters
    (ঢাকার ends in an ending, অর্ডার does not); whether a form is a word is for the caller to
    check against the pages' words (LexicalIndex): these are guesses. Words of fewer than two
    letters have none (বা "or" is not বার "time")."""
    script = script_of(raw[:1]) if raw else "other"
    if script not in _SUFFIXES or _letters(raw) < 2 or len(raw) > CACHED_WORD_CHARS:
        return ()
    endings = _SUFFIXES[script] + _OWN_OR_ENDING.get(script, ())
    stems = [raw[: -len(e)] for e in endings if raw.endswith(e) and _is_stem(raw[: -len(e)], e)]
    longer = [w + e for w in (raw, normalize_word(raw)) for e in endings]
    if script == "bn":
        if _BN_VOWEL_GENITIVE.search(raw) and _letters(raw) >= 3:
            stems.append(raw[:-1])
        if _BN_VOWEL_GENITIVE.search(raw + "\u09b0"):
            longer.append(raw + "\u09b0")
    out = dict.fromkeys([*stems, *(normalize_word(s) for s in stems), *(normalize_word(w) for w in longer)])
    out.pop(normalize_word(raw), None)
    return tuple(out)


def _strip_one(word: str, suffixes: tuple[str, ...]) -> str:
    """``word`` less the first of ``suffixes`` it ends in whose cut leaves a stem of two
    syllables' letters at least (:func:`_is_stem`), else ``word``."""
    for suffix in suffixes:
        if word.endswith(suffix) and len(word) > len(suffix):
            stem = word[: -len(suffix)]
            if _is_stem(stem, suffix):
                return stem
    return word


_VIRAMAS = frozenset("\u09cd\u0acd\u094d")
_BN_Y = "\u09af\u09bc"  # য় (NFC keeps it as য + nukta)


def _is_stem(stem: str, suffix: str) -> bool:
    """Whether ``stem`` may be what is left of a word that ends in ``suffix``: two letters that
    are not one conjunct (ફ્ર of ફ્રી and ব্যাং of ব্যাংকে are one syllable: ી and ে are the
    endings), no virama left dangling (পছন্ + দের cuts the conjunct ন্দ: the ending is ের),
    and for a Bengali ending in য় a vowel sign before it (ঢাকা + য় "in Dhaka"; সময়, বিষয়
    end in a য় of their own)."""
    if stem[-1:] in _VIRAMAS or _letters(stem) - sum(ch in _VIRAMAS for ch in stem[:-1]) < 2:
        return False
    return not suffix.startswith(_BN_Y) or unicodedata.category(stem[-1]) != "Lo"


CACHED_WORD_CHARS = 40  # longer tokens are not words anyone repeats: normalised, not kept


# Words whose English stem would join words a shop means apart, to the term they stand for
# instead (what Lucene's StemmerOverrideFilter does): Porter makes "customer", "custom" (made
# to order) and "customs" (duty) one term, and "instalment" (EMI) the "instal" of
# "installation", so a question about one finds the pages about the other.
STEM_OVERRIDES = {
    "customer": "customer", "customers": "customer",
    "customs": "customs",
    "instalment": "instalment", "instalments": "instalment",
    "installment": "instalment", "installments": "instalment",
}


def english_stem(word: str) -> str:
    """A casefolded ASCII word's English stem: whoosh's Porter stemmer, but for
    :data:`STEM_OVERRIDES`, and with the doubled consonant an -ing or -ed leaves undoubled as
    Porter's step 1b says and whoosh's code does not ("shipping" -> "shipp", never meeting
    "ship"; "wrapped", "stopped", "fitting" likewise; l, s and z stay double: "billing")."""
    if word in STEM_OVERRIDES:
        return STEM_OVERRIDES[word]
    stem = _porter_stem(word)
    if (word.endswith(("ing", "ed")) and len(stem) > 3 and stem[-1] == stem[-2]
            and stem[-1] not in "aeioulsz"):
        return stem[:-1]
    return stem


# American and British spellings of the same English word. Help centers in Bangladesh and India
# write British English ("colour", "centre", "tyre", "jewellery"); shoppers' phones autocorrect to
# American ("color", "center", "tire"), and a spelling the pages never use was unknown to search,
# or corrected into another word ("my tire is flat" -> "time"). Whole words that differ
# otherwise, both ways:
SPELLING_PAIRS = {
    "tire": "tyre", "tires": "tyres", "jewelry": "jewellery", "aluminum": "aluminium",
    "program": "programme", "programs": "programmes", "gray": "grey", "mom": "mum", "moms": "mums",
    "pajamas": "pyjamas", "plow": "plough", "mold": "mould", "moldy": "mouldy", "curb": "kerb",
    "cozy": "cosy", "donut": "doughnut", "donuts": "doughnuts", "airplane": "aeroplane",
    "math": "maths", "skeptical": "sceptical", "fulfill": "fulfil", "enroll": "enrol",
    "installment": "instalment", "installments": "instalments",
}
SPELLING_PAIRS.update({b: a for a, b in list(SPELLING_PAIRS.items())})
# Regular endings, American first: center/centre, color/colour (colored, favorite, neighborhood),
# organize/organise (organization), analyze/analyse, license/licence, catalog/catalogue. Each rule
# is read both ways. Only a spelling the pages use is ever searched for (LexicalIndex), so a rule
# that makes a non-word ("order" -> "ordre", "your" -> "yor") finds nothing.
_SPELLING_RULES = tuple(
    (re.compile(a), b) for a, b in (
        (r"^(.{2,}[^aeiouy])er(s?)$", r"\1re\2"), (r"^(.{2,}[^aeiouy])re(s?)$", r"\1er\2"),
        (r"^(.*[^aeou])or(s|ed|ing|ful|ite|ites|less|able|hood|hoods|ist|ists)?$", r"\1our\2"),
        (r"^(.*[^aeou])our(s|ed|ing|ful|ite|ites|less|able|hood|hoods|ist|ists)?$", r"\1or\2"),
        (r"^(.{2,})iz(e|es|ed|ing|ation|ations|er|ers)$", r"\1is\2"),
        (r"^(.{2,})is(e|es|ed|ing|ation|ations|er|ers)$", r"\1iz\2"),
        (r"^(.+)yz(e|es|ed|ing|er|ers)$", r"\1ys\2"), (r"^(.+)ys(e|es|ed|ing|er|ers)$", r"\1yz\2"),
        (r"^(.{3,})ense(s?)$", r"\1ence\2"), (r"^(.{3,})ence(s?)$", r"\1ense\2"),
        (r"^(.{3,})og(s?)$", r"\1ogue\2"), (r"^(.{3,})ogue(s?)$", r"\1og\2"),
    )
)
MIN_SPELLING_WORD = 4  # "for" is not "four"


def spelling_variants(word: str) -> tuple[str, ...]:
    """The other spellings, American or British, of a casefolded English ``word`` as typed:
    "color" -> ("colour",), "centre" -> ("center",), "tire" -> ("tyre",), "organized" ->
    ("organised",). Guesses by ending: whether one is a word is for the caller to check against
    the pages' words."""
    if len(word) < MIN_SPELLING_WORD or not (word.isascii() and word.isalpha()):
        return ()
    out = [SPELLING_PAIRS[word]] if word in SPELLING_PAIRS else []
    for pattern, repl in _SPELLING_RULES:
        other = pattern.sub(repl, word)
        if other != word and other not in out:
            out.append(other)
    return tuple(out)


def normalize_word(raw: str, stem: bool = True, cache: bool = True) -> str:
    """One raw token (already NFC) -> the indexed term. Words are cached; long tokens are not,
    so the cache stays small (at most 100,000 words of 40 characters) whatever clients send;
    nor is a word with ``cache=False`` (one of the many a typo may be: romanized._thumb_slips)."""
    if cache and len(raw) <= CACHED_WORD_CHARS:
        return _normalize_cached(raw, stem)
    return _normalize(raw, stem)


def _normalize(raw: str, stem: bool) -> str:
    word = raw.casefold()
    if any(ch.isdigit() for ch in word):
        word = "".join(str(unicodedata.digit(ch)) if ch.isdigit() else ch for ch in word)
    if not stem:
        return word
    script = script_of(word[0])
    if script == "latin":
        if word.isascii() and word.isalpha():
            return english_stem(word)
        return word
    if script in _SUFFIXES:
        return indic_stem(word, script) if len(word) <= CACHED_WORD_CHARS else indic_stem.__wrapped__(word, script)
    return word


_normalize_cached = lru_cache(maxsize=100_000)(_normalize)


@dataclass(frozen=True)
class Word:
    term: str  # the analysed form
    start: int  # offsets into the NFC text
    end: int


def words(text: str, *, stem: bool = True, stopwords: bool = True) -> list[Word]:
    """Analyse ``text`` (NFC-normalised here) into terms with character offsets."""
    return [Word(*span) for span in spans(text, stem=stem, stopwords=stopwords)]


def spans(text: str, *, stem: bool = True, stopwords: bool = True) -> list[tuple[str, int, int]]:
    """:func:`words` as (term, start, end) tuples: the same analysis without a ``Word`` object
    a word (a frozen dataclass's construction is a fifth of analysing a chunk for a snippet)."""
    text = unicodedata.normalize("NFC", text)
    out: list[tuple[str, int, int]] = []
    stop = ENGLISH_STOP_WORDS if stopwords else frozenset()
    for m in (_ASCII_WORD_RE if _ascii_words(text) else WORD_RE).finditer(text):
        raw = m.group(0).strip("\u200c\u200d")
        if not raw or (raw.isascii() and raw.lower() in stop):
            continue
        out.append((normalize_word(raw, stem), m.start(), m.end()))
    return out


def normalize_text(text: str) -> str:
    """NFC, every run of whitespace one space, trimmed: the form chunk text is stored in, so
    the offsets of :func:`words` over it are the offsets into what a snippet shows."""
    return unicodedata.normalize("NFC", re.sub(r"\s+", " ", text)).strip()


def terms(text: str) -> list[str]:
    """Just the analysed terms of ``text``."""
    return [w.term for w in words(text)]


class KbTokenizer(Tokenizer):
    """The whoosh side of :func:`words`: use as the analyzer of every text field."""

    def __eq__(self, other: object) -> bool:
        return self.__class__ is other.__class__

    def __hash__(self) -> int:
        return hash(self.__class__.__name__)

    def __call__(  # type: ignore[override]
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[Token]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            t.original = t.text = value
            t.boost = 1.0
            if positions:
                t.pos = start_pos
            if chars:
                t.startchar, t.endchar = start_char, start_char + len(value)
            yield t
            return
        for pos, w in enumerate(words(value)):
            t.text = w.term
            t.boost = 1.0
            t.stopped = False
            if keeporiginal:
                t.original = w.term
            if positions:
                t.pos = start_pos + pos
            if chars:
                t.startchar, t.endchar = start_char + w.start, start_char + w.end
            yield t


if __name__ == "__main__":  # pragma: no cover - handy for writers: analyse a phrase
    print(terms(" ".join(sys.argv[1:])))
