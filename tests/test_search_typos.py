"""A question typed in a hurry (round 20): a slip of the thumb on the pages' English word in a
question typed in Banglish, romanized Gujarati or Hinglish ("paynent", "cancrl", "regund")
is read as that word, by the lexical side and by the encoder; the language's own words that
look one letter from English stay as they are. An English word typed without its vowels
("dlvry", "rfnd") is the page word with those consonants, in English questions too. Two words typed without the space between
them ("myorder", "invoicekaha") are read as two; an English compound or a word of the
language that merely ends as a function word does is not cut."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kb_tools.records import PageRecord
from kb_tools.search import Searcher
from kb_tools.search.build import build_lexical_index
from kb_tools.search.romanized import loanwords


def page(url: str, title: str, body: str, lang: str = "en") -> PageRecord:
    return PageRecord(url=url, title=title, html=body, lang=lang)  # type: ignore[arg-type]


def searcher_of(pages: list[PageRecord], folder: Path) -> Iterator[Searcher]:
    """A lexical index of ``pages`` in ``folder``, searched until the test ends."""
    build_lexical_index(pages, [], folder)
    s = Searcher(folder)
    yield s
    s.close()


def assert_found_alike(s: Searcher, typed: str, right: str) -> None:
    """``typed`` finds what ``right`` finds: the same first three, decision and confidence."""
    got, want = s.search(typed, mode="lexical"), s.search(right, mode="lexical")
    assert got.query_lang == want.query_lang
    assert [h.url for h in got][:3] == [h.url for h in want][:3]
    assert got.answered == want.answered
    assert got[0].confidence == pytest.approx(want[0].confidence, abs=0.02)


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Searcher]:
    """A small help center in English and Bengali."""
    yield from searcher_of([
        page("payments/methods/", "Payment methods", "<p>Pay by card, bKash or cash on delivery. A cheque is not accepted.</p>"),
        page("orders/cancel/", "Cancel an order", "<p>Cancel an order from your account before it ships.</p>"),
        page("refunds/status/", "Refund status", "<p>A refund reaches your card in 5 to 7 days.</p>"),
        page("orders/track/", "Tracking your parcel", "<p>The tracking link in your email shows where the parcel is.</p>"),
        page("shipping/times/", "Delivery times", "<p>Delivery takes 2 to 5 days. The machine in our warehouse packs each part.</p>"),
        page("bn/shipping/times/", "ডেলিভারি কত দিনে", "<p>ডেলিভারি ২ থেকে ৫ দিনে পৌঁছায়।</p>", "bn"),
        page("account/invoice/", "Print an invoice", "<p>Print the invoice or save it as a PDF on your new phone.</p>"),
    ], tmp_path / "idx")


@pytest.mark.parametrize(("typed", "right", "lang"), [
    ("cheque diye paynent kora jabe", "cheque diye payment kora jabe", "bn-Latn"),  # a key beside
    ("order cancrl kevi rite thay", "order cancel kevi rite thay", "gu-Latn"),
    ("regund kab milega", "refund kab milega", "hi-Latn"),
    ("parcel er trackimg link kothay", "parcel er tracking link kothay", "bn-Latn"),  # a form of "track"
    ("delivry kab tak hogi", "delivery kab tak hogi", "hi-Latn"),  # a letter left out
    ("paymetn kaise kare", "payment kaise kare", "hi-Latn"),  # two letters swapped
    ("refund kab mikega", "refund kab milega", "hi-Latn"),  # a slip on the language's own word
])
def test_a_slip_on_the_pages_english_word_finds_what_the_word_finds(shop: Searcher, typed: str, right: str,
                                                                       lang: str) -> None:
    assert shop.query_language(typed) == shop.query_language(right) == lang
    assert_found_alike(shop, typed, right)


def test_the_encoder_reads_the_word_put_right(shop: Searcher) -> None:
    lq = shop.lexical.build_query("regund kab milega", "hi-Latn")
    assert lq.slips == {"regund": "refund"}
    assert shop.encoder_text("regund kab milega", "hi-Latn", lq) == shop.encoder_text(
        "refund kab milega", "hi-Latn", shop.lexical.build_query("refund kab milega", "hi-Latn"))
    lq = shop.lexical.build_query("refund kab mikega", "hi-Latn")
    assert lq.slips == {"mikega": "milega"}
    assert shop.encoder_text("refund kab mikega", "hi-Latn", lq) == shop.encoder_text(
        "refund kab milega", "hi-Latn", shop.lexical.build_query("refund kab milega", "hi-Latn"))


@pytest.mark.parametrize("word", [
    "parat",  # Gujarati "back": "part" with a letter less, in a word of five
    "newar",  # Bengali "of taking": "near" with a letter more
    "mahine",  # Hindi "months": "machine" with a letter left out, but the glossary's word
    "padse",  # Gujarati "will fall": "passe" is no word the pages or English write
    "jabe", "kobe",  # too short to read a slip in
])
def test_the_languages_own_words_are_not_taken_for_slips(shop: Searcher, word: str) -> None:
    lang = {"parat": "gu", "padse": "gu", "mahine": "hi"}.get(word, "bn")
    lq = shop.lexical.build_query(f"refund {word}", f"{lang}-Latn")
    assert lq.slips == {}


def test_a_slip_is_only_a_key_beside_the_letter(shop: Searcher) -> None:
    table = loanwords(shop.lexical)
    assert table.slipped("paynent") == "payment"  # n is beside m
    assert table.slipped("paylent") is None  # l is not
    assert table.slipped("oayment") is None  # never the first letter
    assert table.slipped("payment") is None  # the word itself


@pytest.mark.parametrize(("typed", "spaced"), [
    ("where is myorder", "where is my order"),  # a grammar word before a page word
    ("cancelorder kaise kare", "cancel order kaise kare"),  # two page words
    ("invoicekaha milega", "invoice kaha milega"),  # a page word and a Hindi function word
    ("Refundstatus", "Refund status"),  # as typed, capital and all
])
def test_two_words_typed_without_a_space_are_read_as_two(shop: Searcher, typed: str, spaced: str) -> None:
    assert shop.lexical.spaced(typed) == spaced
    got, want = shop.search(typed, mode="lexical"), shop.search(spaced, mode="lexical")
    assert [h.url for h in got][:3] == [h.url for h in want][:3]
    assert got.answered == want.answered and got.query_lang == want.query_lang


@pytest.mark.parametrize("word", [
    "printout",  # an English compound: a particle after a page word
    "newar", "phonese",  # a page word and a two-letter function word: Bengali "newar" (of taking)
    "paymnet",  # a typo of a page word, put right as one
    "deliveryy",  # likewise
    "amitumi",  # two Banglish function words and no other word: nothing to gain, much to lose
])
def test_a_word_that_may_be_one_is_not_cut(shop: Searcher, word: str) -> None:
    assert shop.lexical.spaced(f"refund {word}") == f"refund {word}"


@pytest.mark.parametrize(("typed", "right"), [
    ("dlvry times", "delivery times"),  # English
    ("how to cncl an order", "how to cancel an order"),
    ("rfnd kab milega", "refund kab milega"),  # Hinglish: the lexical side too, not only the encoder
])
def test_a_word_typed_without_its_vowels_finds_what_the_word_finds(shop: Searcher, typed: str, right: str) -> None:
    assert_found_alike(shop, typed, right)


@pytest.fixture
def indic_shop(tmp_path: Path) -> Iterator[Searcher]:
    """A small help center in English, Bengali and Gujarati."""
    yield from searcher_of([
        page("refunds/status/", "Refund status", "<p>Your money back: a refund reaches your card in 5 to 7 days.</p>"),
        page("bn/refunds/status/", "টাকা ফেরত", "<p>ফেরত টাকা ৫ থেকে ৭ দিনে আপনার কার্ডে পৌঁছায়।</p>", "bn"),
        page("products/fan/", "Ceiling fan", "<p>The fan arrives in 3 to 5 days; a fitter sets it up.</p>"),
        page("gu/products/fan/", "પંખો", "<p>પંખો ૩ થી ૫ દિવસમાં પહોંચે છે.</p>", "gu"),
        page("shipping/times/", "Delivery times", "<p>Delivery takes 2 to 5 days.</p>"),
    ], tmp_path / "idx")


@pytest.mark.parametrize(("typed", "right", "lang"), [
    ("taka frrot kobe pabo", "taka ferot kobe pabo", "bn-Latn"),  # a key beside, Banglish
    ("taka freot kobe pabo", "taka ferot kobe pabo", "bn-Latn"),  # two letters swapped
    ("maro panlho kyare aavse", "maro pankho kyare aavse", "gu-Latn"),  # romanized Gujarati
    ("psisa wapas kab milega", "paisa wapas kab milega", "hi-Latn"),  # Hinglish: by the glossary alone
])
def test_a_slip_on_a_word_of_the_language_finds_what_the_word_finds(indic_shop: Searcher, typed: str, right: str,
                                                                    lang: str) -> None:
    assert indic_shop.query_language(typed) == indic_shop.query_language(right) == lang
    assert_found_alike(indic_shop, typed, right)
    lq = indic_shop.lexical.build_query(typed, lang)
    wrong = next(w for w, r in zip(typed.split(), right.split(), strict=True) if w != r)
    assert lq.slips == {wrong: right.split()[typed.split().index(wrong)]}
    assert indic_shop.encoder_text(typed, lang, lq) == indic_shop.encoder_text(
        right, lang, indic_shop.lexical.build_query(right, lang))


@pytest.mark.parametrize(("question", "lang"), [
    ("amar shomoy nei", "bn-Latn"),  # "time", typed right: one key from nothing the glossary lists
    ("fan chalu nahi hota", "hi-Latn"),  # "running": one key from chaku (knife)
    ("purani kitab bechni hai", "hi-Latn"),  # "old", "to sell": another last vowel is the word inflected
    ("pankho ghare aavse", "gu-Latn"),  # "at home"
])
def test_a_word_of_the_language_typed_right_is_not_read_as_a_slip(indic_shop: Searcher, question: str,
                                                                  lang: str) -> None:
    assert indic_shop.lexical.build_query(question, lang).slips == {}


@pytest.mark.parametrize(("typed", "spaced"), [
    ("taka ferotkobe pabo", "taka ferot kobe pabo"),  # a Banglish word the glossary has, a function word
    ("takaferot kobe pabo", "taka ferot kobe pabo"),  # two words the glossary has
    ("maro pankhokyare aavse", "maro pankho kyare aavse"),  # romanized Gujarati
    ("pankhothi pavan", "pankho thi pavan"),  # the small word after the word, not "pan khothi"
    ("taka kobepabo", "taka kobe pabo"),  # a function word and a word the glossary has ("get")
])
def test_two_words_of_the_language_typed_without_a_space_are_read_as_two(indic_shop: Searcher, typed: str,
                                                                          spaced: str) -> None:
    assert indic_shop.lexical.spaced(typed) == spaced
    got, want = indic_shop.search(typed, mode="lexical"), indic_shop.search(spaced, mode="lexical")
    assert [h.url for h in got][:3] == [h.url for h in want][:3]
    assert got.answered == want.answered and got.query_lang == want.query_lang


@pytest.mark.parametrize("word", [
    "pankhata",  # "the fan", one sound from the page's પંખો: not "pan khata"
    "amitumi",  # two function words: no word of the pages or the glossary to gain
])
def test_a_word_of_the_language_is_not_cut(indic_shop: Searcher, word: str) -> None:
    assert indic_shop.lexical.spaced(f"parcel {word}") == f"parcel {word}"
