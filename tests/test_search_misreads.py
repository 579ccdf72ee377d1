"""Questions typed in Latin letters that search used to misread (round 13): a Bengali verb one
letter from a rare English name, a question word or a light verb no list had, Gujarati words
no page has, and English typed as chat types it, without its vowels."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb_tools.records import PageRecord
from kb_tools.search import Searcher, romanized
from kb_tools.search.analyzer import normalize_word
from kb_tools.search.build import build_lexical_index
from kb_tools.search.romanized import detect_language, encoder_text


def page(url: str, title: str, body: str, lang: str = "en") -> PageRecord:
    return PageRecord(url=url, title=title, html=body, lang=lang)  # type: ignore[arg-type]


@pytest.fixture
def shop(tmp_path: Path) -> Searcher:
    """A small help center in English and Bengali."""
    build_lexical_index([
        page("refunds/wallets/", "bKash and Nagad refunds",
             "<p>A refund to bKash or Nagad reaches the wallet number you paid from in 3 days.</p>"),
        page("bn/refunds/wallets/", "বিকাশ ও নগদ রিফান্ড",
             "<p>বিকাশ বা নগদে রিফান্ড ৩ দিনে আপনার নম্বরে পৌঁছায়। রিফান্ড নেওয়ার জন্য কিছু করতে হবে না।</p>", "bn"),
        page("shipping/times/", "Delivery times", "<p>Delivery takes 2 to 5 days.</p>"),
        page("bn/shipping/times/", "ডেলিভারি কত দিনে", "<p>ডেলিভারি ২ থেকে ৫ দিনে পৌঁছায়।</p>", "bn"),
        page("account/password/", "Reset your password",
             "<p>Forgot your password? Reset it from the login page. Please use a new password.</p>"),
        page("payments/methods/", "Payment methods", "<p>Pay by card or cash. Plus members pay no fee.</p>"),
    ], [], tmp_path / "idx")
    s = Searcher(tmp_path / "idx")
    yield s
    s.close()


def test_a_banglish_verb_one_letter_from_a_rare_english_name_is_bengali(shop: Searcher) -> None:
    # "newar" (নেওয়ার, "of taking") ends like a Bengali verbal noun, but it is "newark" with a
    # letter left out, and a slip of English made it count half: with the pages' English
    # "nagad" and "refund" the question was read as English, "newar upay" spell-corrected to
    # "near pay". A shopper's slip is of a word people type, not of a place name.
    results = shop.search("nagad e refund newar upay", mode="lexical")
    assert results.query_lang == "bn-Latn"
    assert results[0].url == "bn/refunds/wallets/"
    # Slips of common English words still make a question English.
    for text in ("nagad refund plese", "refund to nagad wallet numbr"):
        assert shop.query_language(text) == "en", text


def test_a_question_word_and_a_light_verb_no_list_had_place_the_question() -> None:
    # "koydin" (কয়দিন, "how many days") is a question word like the listed "kotodin"; Hindi's
    # light verb "jate" ("chipak jate h": it sticks) as common as the listed "sakte". Both
    # questions were read as English.
    assert detect_language("delivery pouchate koydin") == "bn-Latn"
    assert detect_language("rice cooker me chawal chipak jate h") == "hi-Latn"


def test_the_banglish_delivery_question_gets_the_bengali_page(shop: Searcher) -> None:
    results = shop.search("delivery pouchate koydin", mode="lexical")
    assert results.query_lang == "bn-Latn"
    assert results[0].url == "bn/shipping/times/"


def test_romanized_gujarati_words_no_page_has_are_read_in_gujarati_letters() -> None:
    # Only the pages' own words were read in Gujarati; every other word reached the encoder in
    # Latin letters ("paisa parat levani rit": "parat", "levani" as typed). Gujarati says and
    # writes its words as Hindi does, with its own neuter "-u" and future "-se".
    english = {normalize_word(w) for w in ("refund", "order", "cash", "delivery")}
    assert encoder_text("paisa parat levani rit", "gu-Latn", None, english) == "પૈસા પરત લેવની રિત"
    assert encoder_text("order nathi aavyu", "gu-Latn", None, english) == "order નથી આવ્યું"
    assert romanized.gujarati_word("karvu") == "કરવું" and romanized.gujarati_word("aavyu") == "આવ્યું"
    assert romanized.gujarati_word("vastu") == "વસ્તુ" and romanized.gujarati_word("thase") == "થશે"
    # The pages' English, English words and brands typed short stay as typed; so do two-letter
    # postpositions ("ma" is માં, not મા, "mother").
    assert encoder_text("cash on delivery ma phone gpay", "gu-Latn", None, english) == "cash on delivery ma phone gpay"


def test_english_typed_without_vowels_is_read_as_the_pages_word(shop: Searcher) -> None:
    # Chat types English without its vowels ("pswd", "pymt"): the encoder read "pswd" as
    # प्सवद. It is the pages' word with the same first and last letter and those consonants.
    assert romanized.spelt_out_text("pswd bhul gya ab kya kru", shop.lexical, "hi") == "password bhul gya ab kya kru"
    assert romanized.spelt_out_text("pymt nhi hua", shop.lexical, "hi") == "payment nhi hua"
    # Two words fit "pls" alike (please, plus): no reading. Hindi's own shorthand stays.
    assert romanized.spelt_out_text("pls order kr do", shop.lexical, "hi") == "pls order kr do"


def test_a_gujarati_verbal_noun_with_from_is_read_by_its_ending(tmp_path: Path) -> None:
    # "dhovathi" ("from washing": -va, the verbal noun, and thi, "from") ends as no English or
    # Bengali word does; amid the pages' "saree" and two words English also has ("rang",
    # "jase") the question was read as English or Bengali.
    build_lexical_index([
        page("care/saree/", "Saree care", "<p>Wash a silk saree by hand in cold water; dry it in shade.</p>"),
    ], [], tmp_path / "idx")
    s = Searcher(tmp_path / "idx")
    assert s.query_language("saree dhovathi rang jase") == "gu-Latn"
    assert detect_language("saree dhovathi rang jase") == "gu-Latn"


def test_a_hinglish_noun_ending_in_aai_is_read_with_its_long_vowels() -> None:
    # "silai" (stitching), "dawai" (medicine): Hindi's noun suffix ाई; the encoder read सिलै.
    # A one-syllable "hai" is still है.
    english = {normalize_word("blouse")}
    assert encoder_text("blouse ki silai bhi karte ho kya", "hi-Latn", None, english) == "blouse की सिलाई भी करते हो क्या"
    assert encoder_text("dawai kab tak aayegi", "hi-Latn", None, english) == "दवाई कब तक आएगी"
    assert encoder_text("silai ka charge kitna hai", "hi-Latn", None, english).endswith("कितना है")


def test_a_typo_of_a_common_english_word_keeps_an_english_question_english() -> None:
    # "ddo" is "do" mistyped before it is Hindi's "dedo" typed without its vowel: a slip of
    # any English word still says a word may be English; only a verb ending's weight asks
    # for a slip of a common one ("newar" above).
    assert detect_language("what do i have to ddo to cancel a Gold account") == "en"


def test_a_doubled_vowel_does_not_outweigh_a_bengali_verb_ending() -> None:
    # "theke" and "ke" list it as Bengali, "maa" and "ke" as Gujarati; the doubled vowels of
    # "maa" and "phool" (Banglish doubles some too) decided Gujarati before the verb ending
    # "-bo" of "pathabo" (I will send) was heard.
    assert detect_language("bidesh theke maa ke phool pathabo") == "bn-Latn"


def test_an_english_like_final_y_of_hinglish_is_the_long_i() -> None:
    # "mummy", "party": Hinglish spells a final "i" sound after a consonant as English does;
    # read as the consonant य the encoder got मुम्म्य.
    assert encoder_text("mummy ghar pe nahi thi", "hi-Latn", None, set()) == "मुम्मी घर पे नही थी"
