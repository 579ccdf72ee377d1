"""Which language a question typed in Latin letters is in: Banglish typed with none of the
listed function words, told apart from English words and English typos by its word endings."""

from __future__ import annotations

from pathlib import Path

from kb_tools.records import PageRecord
from kb_tools.search import Searcher
from kb_tools.search.build import build_lexical_index
from kb_tools.search.romanized import detect_language, encoder_text


def page(url: str, title: str, body: str, lang: str = "en") -> PageRecord:
    return PageRecord(url=url, title=title, html=body, lang=lang)  # type: ignore[arg-type]


def test_banglish_without_a_listed_word_is_read_as_bengali_by_its_verb_endings() -> None:
    # Each of these was read as English and its verb spell-corrected as an English typo: no
    # word of them is a listed function word, but "-che" + না, "-se", "-bo", "-un", "-lam"
    # are Bengali verb endings no English word has.
    for text in ("courier aschena", "dokan theke taka katse", "account bondho korun", "ami kinlam",
                 "sim muche felbo", "phone kinechilam screen fatse"):
        assert detect_language(text) == "bn-Latn", text


def test_english_words_and_english_typos_stay_english() -> None:
    # English words end in "-se", "-be", "-te" too, and so do their typos: "purchse" is one slip
    # from "purchase", "plese" and "retun" are "please" and "return" with a letter left out,
    # "unsubscribe" and "update" are English words.
    for text in ("how to purchse a gift card", "please update my address", "close my account",
                 "unsubscribe from the newsletter", "cancle my ordr", "the phone case is broken",
                 "delivry status", "cancle the ordre plese", "retun my parcel"):
        assert detect_language(text) == "en", text


def test_a_question_the_function_words_place_is_not_moved_by_endings() -> None:
    # Gujarati and Hindi verbs end in "-se" and "-che" too; their function words decide.
    assert detect_language("paisa pacha kyare aavse") == "gu-Latn"
    assert detect_language("mera parcel abhi tak nahi aaya") == "hi-Latn"
    # ভুল ("wrong") is Bengali as much as Hindi: with a Bengali verb the question is Bengali.
    assert detect_language("bhul jinis pathiyeche") == "bn-Latn"


def test_a_banglish_question_gets_the_bengali_translation_of_its_answer(tmp_path: Path) -> None:
    # A shopper who types Bengali in Latin letters reads Bengali: of a page and its Bengali
    # translation, the Bengali one is shown -- also when the question has no listed word.
    build_lexical_index([
        page("shipping/late-parcel/", "Courier has not come", "<p>If the courier has not come in five days, tell us.</p>"),
        page("bn/shipping/late-parcel/", "কুরিয়ার আসছে না", "<p>পাঁচ দিনে কুরিয়ার না এলে আমাদের জানান।</p>", "bn"),
        page("payments/cards/", "Card payments", "<p>We take Visa and Mastercard.</p>"),
    ], [], tmp_path / "idx")
    s = Searcher(tmp_path / "idx")
    results = s.search("courier aschena", mode="lexical")
    assert results[0].url == "bn/shipping/late-parcel/"


def _shop(tmp_path: Path) -> Searcher:
    """A small help center in English, Bengali and Gujarati."""
    build_lexical_index([
        page("shipping/costs/", "Delivery charges", "<p>Delivery outside the city costs more. Call the hotline for help.</p>"),
        page("bn/shipping/costs/", "ডেলিভারি খরচ",
             "<p>ঢাকার বাইরে ডেলিভারি খরচ ১২০ টাকা। পার্সেল তিন দিনে পৌঁছাবে। হেল্পলাইন নম্বর ১৬২৪৭।</p>", "bn"),
        page("gu/returns/send-back/", "સામાન પાછો મોકલો",
             "<p>અમે તમારો સામાન પાછો લઈ જઈશું. પાર્સલ ત્રણ દિવસમાં પહોંચશે. કેશ ઓન ડિલિવરી ચાલશે.</p>", "gu"),
    ], [], tmp_path / "idx")
    return Searcher(tmp_path / "idx")


def test_banglish_with_no_verb_is_read_as_bengali_by_its_words(tmp_path: Path) -> None:
    # No listed word and no verb ending: "nombor" is no English word and sounds like the
    # Bengali pages' নম্বর, and the shopper gets the Bengali page, not English spelling fixes.
    s = _shop(tmp_path)
    results = s.search("hotline nombor", mode="lexical")
    assert results.query_lang == "bn-Latn"
    assert results[0].url == "bn/shipping/costs/"
    assert s.query_language("sohorer baire khoroch") == "bn-Latn"


def test_a_gujarati_future_is_told_from_a_bengali_past_by_the_pages_words(tmp_path: Path) -> None:
    # "-se" ends Bengali pasts (korse) and Gujarati futures (aavse): the verb that sounds like
    # the Gujarati pages' પહોંચશે is Gujarati; "-su" (we will) is Gujarati's alone.
    s = _shop(tmp_path)
    assert s.query_language("parcel pahonchse") == "gu-Latn"
    assert s.query_language("saman pacho lai jaisu") == "gu-Latn"
    # One letter from the English name "chase", but the pages never say "chase": ચાલશે.
    assert s.query_language("cash on delivery chalse") == "gu-Latn"


def test_english_with_a_short_word_other_languages_list_stays_english(tmp_path: Path) -> None:
    # "ya" is Hindi's "or", and informal English's "you"; amid English grammar it is English.
    # A name or an English word one letter from the Bengali pages' words stays English too.
    s = _shop(tmp_path)
    for text in ("can ya help me with the delivery charges", "do ya deliver outside the city",
                 "call the hotline number", "deliver to newark"):
        assert s.query_language(text) == "en", text


def test_romanized_gujarati_is_read_as_the_pages_write_its_words(tmp_path: Path) -> None:
    # The encoder reads a romanized Gujarati question in Gujarati script, word by word as the
    # pages' words -- which are indexed stemmed (કેટલા as કેટલ): the shopper's last vowel is
    # written back, and a word whose vowels differ is not taken for one with its consonants
    # ("aapi", having given, is not ફી, "fee"; "kale", tomorrow, is not ખોલે, "opens").
    build_lexical_index([
        page("gu/shipping/days/", "ડિલિવરી કેટલા દિવસમાં થશે",
             "<p>રિફંડ પાંચ દિવસમાં મળશે. ડિલિવરીની ફી નથી. બોક્સ ખોલે ત્યારે વીડિયો લો. તમે પાછું આપી શકો.</p>", "gu"),
    ], [], tmp_path / "idx")
    s = Searcher(tmp_path / "idx")
    keys, english = s.lexical.keys(), s.english_words()
    assert encoder_text("refund ketla divas ma malse", "gu-Latn", keys, english) == "refund કેટલા દિવસ ma મળશે"
    assert "ફી" not in encoder_text("paisa pachu aapi do", "gu-Latn", keys, english)
    assert "ખોલે" not in encoder_text("parcel kale aavse", "gu-Latn", keys, english)


def test_banglish_on_an_english_only_help_center_is_read_by_the_shop_glossary(tmp_path: Path) -> None:
    # A shop whose pages are all English still gets Banglish questions: their words are the
    # glossary's words of shopping (ফেরত "return", খরচ "cost"), not English typos to correct.
    build_lexical_index([
        page("returns/policy/", "Return policy", "<p>Return a parcel within seven days. Delivery costs are refunded.</p>"),
        page("contact/", "Contact us", "<p>Call our helpline number.</p>"),
    ], [], tmp_path / "idx")
    s = Searcher(tmp_path / "idx")
    assert s.query_language("parcel ferot") == "bn-Latn"
    assert s.query_language("delivery khoroch") == "bn-Latn"
    for text in ("parcel return", "delivery costs", "can ya call me", "helpline number"):
        assert s.query_language(text) == "en", text


def test_a_verb_ending_outweighs_a_loose_sound_of_another_language(tmp_path: Path) -> None:
    # "thakbe" (থাকবে, "will stay") ends like a Bengali future; with its last vowel dropped its
    # key is that of the Gujarati pages' અટકવા ("to stop"), a looser match than an ending.
    build_lexical_index([
        page("bn/storage/", "ঠান্ডা রাখুন", "<p>ওষুধ ঠান্ডা জায়গায় রাখুন।</p>", "bn"),
        page("gu/storage/", "ઠંડી જગ્યાએ રાખો", "<p>પેમેન્ટ અટકવા પર ઠંડી જગ્યાએ રાખો.</p>", "gu"),
    ], [], tmp_path / "idx")
    s = Searcher(tmp_path / "idx")
    assert s.query_language("juice thanda thakbe to?") == "bn-Latn"


def _borrowing_shop(tmp_path: Path) -> Searcher:
    """A help center whose Bengali and Gujarati pages use English shop words, and whose
    English pages name a bank card."""
    build_lexical_index([
        page("orders/cancel/", "Cancel an order", "<p>Cancelling an order before dispatch is free; after it a charge applies.</p>"),
        page("bn/orders/cancel/", "অর্ডার বাতিল",
             "<p>পাঠানোর আগে অর্ডার বাতিলের কোনো চার্জ নেই। হেল্পলাইন নম্বর দিন, আমরা ফোন করব।</p>", "bn"),
        page("contact/", "Contact us", "<p>Call our helpline number or write on WhatsApp.</p>"),
        page("refunds/cards/", "Card refunds", "<p>Refunds to a Chase or Citi card take five days.</p>"),
        page("gu/payments/cod/", "કેશ ઓન ડિલિવરી", "<p>કેશ ઓન ડિલિવરી ચાલશે. પૈસા ડિલિવરી વખતે આપો.</p>", "gu"),
    ], [], tmp_path / "idx")
    return Searcher(tmp_path / "idx")


def test_banglish_made_of_the_pages_english_nouns_and_one_bengali_word_is_bengali(tmp_path: Path) -> None:
    # A Bengali question borrows the pages' English nouns ("order", "charge", "number") and
    # has no English grammar; its one Bengali word (বাতিলের "of cancelling", দিন "give" -- a
    # rare English word too) makes it Bengali, and the shopper gets the Bengali page.
    s = _borrowing_shop(tmp_path)
    results = s.search("order batiler charge", mode="lexical")
    assert results.query_lang == "bn-Latn"
    assert results[0].url == "bn/orders/cancel/"
    assert s.query_language("helpline number din") == "bn-Latn"
    # With English grammar, or with no Bengali word, the same nouns are English.
    for text in ("what is the order charge", "order charge", "give me the helpline number", "charge the order"):
        assert s.query_language(text) == "en", text


def test_a_verb_of_the_pages_is_not_a_typo_of_a_name_the_english_pages_use(tmp_path: Path) -> None:
    # "chalse" is one letter from "chase", which the English pages use (a Chase card), but it
    # sounds like the Gujarati pages' ચાલશે ("will do"), ending and all.
    s = _borrowing_shop(tmp_path)
    assert s.query_language("cash on delivery chalse") == "gu-Latn"
    for text in ("refund to my chase card", "chase card refund"):
        assert s.query_language(text) == "en", text


def test_doubled_vowels_tell_romanized_gujarati_from_banglish_when_nothing_else_does() -> None:
    # "-se" ends a Gujarati future (પડશે, "will fall") and a Bengali past; no page has these
    # words. Gujarati tells long vowels from short and is typed with them doubled ("aaje",
    # today); Bengali has none.
    assert detect_language("aaje varsad padse") == "gu-Latn"
    assert detect_language("kaale paisa aavse") == "gu-Latn"
    assert detect_language("dokan theke taka katse") == "bn-Latn"


def test_a_gujarati_verbal_noun_is_read_by_its_ending() -> None:
    # "karvano", "levani" ("of doing", "of taking"): Gujarati's -vanu/-vano/-vani, which no
    # English word ends in, amid the pages' English nouns.
    assert detect_language("order radd karvano charge") == "gu-Latn"
    assert detect_language("paisa parat levani rit") == "gu-Latn"


def test_hinglish_typed_as_chat_is_read_as_hindi(tmp_path: Path) -> None:
    # Chat drops a word's inner vowels: "krna" (karna), "kb tk" (kab tak), "mjhe" (mujhe), and
    # "h" for hai. Such a function word counts as the word; these were read as English (the
    # first and last) or as Gujarati.
    s = _shop(tmp_path)
    results = s.search("order cancel krna h", mode="lexical")
    assert results.query_lang == "hi-Latn"
    for text in ("mjhe refund chahiye", "delivery kb tk hogi", "parcel nhi mila"):
        assert detect_language(text) == "hi-Latn", text
    # Consonant-only English stays English: units, titles, abbreviations.
    for text in ("need 2 kg rice", "mr smith ordered a tv", "pls track my order", "hw do i pay"):
        assert detect_language(text) == "en", text


def test_a_question_two_languages_list_alike_is_read_by_its_other_words() -> None:
    # "kya" is Hindi's "what" and Gujarati's "where", "ke" both's "of": the function words
    # place these in both, and the first listed language used to win. The other words speak:
    # "milta" ends like a Hindi verb (-ta), "liye" is Hindi's "for".
    assert detect_language("cod milta h kya") == "hi-Latn"
    assert detect_language("shaadi ke liye hall booking") == "hi-Latn"
    # ... and a question only Gujarati's words place stays Gujarati.
    assert detect_language("parcel kya pahochyu") == "gu-Latn"


def test_hinglish_is_read_for_the_encoder_as_hindi_writes_it() -> None:
    # The encoder reads a Hinglish word in Devanagari: a typed final "a" is the long vowel and a
    # final consonant has no virama (ITRANS read "mera kab" as मेर कब्, no words), two
    # consonants typed together are mostly written with the vowel Hindi leaves unsaid (करना,
    # not कर्न), and a function word typed without its vowels is read as the word.
    from kb_tools.search.analyzer import normalize_word

    english = {normalize_word(w) for w in ("order", "cancel", "refund", "cash", "delivery")}  # the pages' words
    assert encoder_text("mera order kab tak aayega", "hi-Latn", None, english) == "मेरा order कब तक आएगा"
    assert encoder_text("order cancel krna h", "hi-Latn", None, english) == "order cancel करना है"
    assert encoder_text("refund kitne din me milega", "hi-Latn", None, english) == "refund कितने दिन मे मिलेगा"
    assert encoder_text("kya main paise wapas le sakta hoon", "hi-Latn", None, english) == "क्या मैं पैसे वपस ले सकता हूं"
    # English grammar words of a borrowed phrase stay English; a "y" between vowels is a glide.
    assert encoder_text("cash on delivery chahiye", "hi-Latn", None, english) == "cash on delivery चहिए"
