"""How search reads a shopper's words, on small indexes built in code: which typos it corrects,
which native-script words it reads as English loanwords, and which it leaves as typed."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb_tools.records import PageRecord
from kb_tools.search import Searcher, lexical
from kb_tools.search.analyzer import normalize_word
from kb_tools.search.build import build_lexical_index


def page(url: str, title: str, body: str, lang: str = "en") -> PageRecord:
    return PageRecord(url=url, title=title, html=body, lang=lang)  # type: ignore[arg-type]


def searcher(tmp_path: Path, pages: list[PageRecord]) -> Searcher:
    build_lexical_index(pages, [], tmp_path / "idx")
    return Searcher(tmp_path / "idx")


def test_a_bengali_or_gujarati_word_is_never_corrected_into_another_word(tmp_path: Path) -> None:
    # One edit turns a Bengali or Gujarati word into another word: পানি "water" into পাইনি
    # "did not get" or আপনি "you", પહેલી "first" into આપેલો "given". The "water is leaking"
    # question once found the "order not received" page by a word it does not have.
    s = searcher(tmp_path, [
        page("bn/orders/not-received/", "অর্ডার পাইনি?", "<p>অর্ডার পাইনি? আপনি আমাদের জানান।</p>", "bn"),
        page("bn/blender/", "ব্লেন্ডার পরিষ্কার", "<p>ব্লেন্ডার কীভাবে পরিষ্কার করবেন।</p>", "bn"),
        page("gu/orders/", "આપેલો ઓર્ડર", "<p>આપેલો ઓર્ડર બદલો.</p>", "gu"),
    ])
    hits = s.search("ব্লেন্ডার থেকে পানি পড়ছে", mode="lexical")
    assert [h.url for h in hits] == ["bn/blender/"]
    assert not {"পাইনি", "আপনি"} & s.lexical.build_query("ব্লেন্ডার থেকে পানি পড়ছে", "bn").terms
    assert "આપેલો" not in s.lexical.build_query("પહેલી વાર ઓર્ડર", "gu").terms
    # Another spelling (a short vowel for the pages' long one) or another ending of the same
    # word is still found: কিভাবে, the pages' কীভাবে; পরিষ্কারের "of cleaning".
    for query in ("ব্লেন্ডার কিভাবে ধোব", "পরিষ্কারের নিয়ম"):
        assert [h.url for h in s.search(query, mode="lexical")][:1] == ["bn/blender/"], query


def test_a_word_of_the_shoppers_own_grammar_is_never_read_as_an_english_product(tmp_path: Path) -> None:
    # કેટલું ("how much") sounds like "kettle": a shop that sells kettles answered "how much
    # is delivery?" with its kettle page. A Gujarati question word is Gujarati; a loanword that
    # only sounds like one is still read as English (કેટલ, written as the English word).
    s = searcher(tmp_path, [
        page("products/kettle/", "Descale the kettle", "<p>Boil vinegar in the kettle to descale it.</p>"),
        page("shipping/charges/", "Delivery charges", "<p>Delivery costs 60 taka inside the city.</p>"),
        page("gu/shipping/", "ડિલિવરી ચાર્જ", "<p>શહેરમાં ડિલિવરી ચાર્જ ૬૦ ટકા.</p>", "gu"),
    ])
    for query in ("ડિલિવરી ચાર્જ કેટલું છે", "કેટલું આપવું પડે"):
        lq = s.lexical.build_query(query, "gu")
        assert "kettle" not in s.encoder_text(query, "gu", lq), query
        assert "products/kettle/" not in [h.url for h in s.search(query, mode="lexical")], query
    lq = s.lexical.build_query("કેટલ સાફ કરવી છે", "gu")  # "I want to clean the kettle"
    assert s.encoder_text("કેટલ સાફ કરવી છે", "gu", lq).endswith(" kettle")
    assert [h.url for h in s.search("કેટલ સાફ કરવી છે", mode="lexical")][:1] == ["products/kettle/"]


def test_a_rare_english_word_one_letter_from_a_far_commoner_one_is_read_as_both(tmp_path: Path) -> None:
    # "oder" is in the English word list (German "or"), so it counted as a real word and was
    # never corrected: "oder status" found nothing. A common word is still meant as typed.
    s = searcher(tmp_path, [
        page("orders/track/", "Track your order", "<p>See the status of your order.</p>"),
        page("contact/", "Contact us", "<p>Tell us about your phone order. We can swap the gift box.</p>"),
    ])
    for query in ("oder status", "where is my oder"):
        assert "order" in s.lexical.build_query(query, "en").terms, query
        assert [h.url for h in s.search(query, mode="lexical")][:1] == ["orders/track/"], query
    assert s.encoder_text("oder status", "en", s.lexical.build_query("oder status", "en")) == "order status"
    assert s.lexical.build_query("do you sell gift wrap", "en").corrected == "do you sell gift wrap"  # not tell, swap
    # Banglish is never spell-corrected into English ("oder" is ওদের, "their").
    assert "order" not in s.lexical.build_query("oder kobe asbe bolun", "bn-Latn").terms


def test_a_contraction_typed_without_its_apostrophe_is_not_corrected_into_a_page_word(tmp_path: Path) -> None:
    # "whats" and "wheres" stem to "what" and "where", which no page is indexed with: they
    # were corrected into "wait" and "here", and the encoder read "waiting the refund policy".
    s = searcher(tmp_path, [
        page("refunds/policy/", "Refund policy", "<p>Your refund reaches you within 7 days.</p>"),
        page("shipping/waiting/", "Still waiting?", "<p>Why you may wait longer. Click here.</p>"),
    ])
    for query in ("whats the refund policy", "wheres my refund"):
        lq = s.lexical.build_query(query, "en")
        assert not {"wait", "here"} & lq.terms, query
        assert s.encoder_text(query, "en", lq) == query
        assert [h.url for h in s.search(query, mode="lexical")] == ["refunds/policy/"], query


def test_a_negation_typed_without_its_apostrophe_is_grammar_not_an_unknown_word(tmp_path: Path) -> None:
    # "wasnt", "didnt", "wont" are no page word: a question with one was that much less known
    # (phool's "my mom wasnt home when the delivery guy came" declined with its page first).
    s = searcher(tmp_path, [
        page("problems/not-home/", "Recipient not home", "<p>If nobody is home, the rider calls and waits.</p>"),
        page("orders/pickup/", "Pick up from the shop", "<p>Pick up your cake from our shop.</p>"),
    ])
    for query, plain in (("nobody wasnt home", "nobody home"), ("rider didnt call", "rider call"),
                         ("can i pick up the cake myself", "can i pick up the cake")):
        assert s.lexical.build_query(query, "en").known == s.lexical.build_query(plain, "en").known == 1.0, query
        assert s.lexical.build_query(query, "en").terms == s.lexical.build_query(plain, "en").terms, query


def test_a_word_with_a_case_ending_finds_the_page_with_the_bare_word(tmp_path: Path) -> None:
    # The genitive র on a Bengali loanword (পলিসির, "of the policy") and Gujarati "from in"
    # (એપમાંથી, which lost only its -થી) never found the page with the bare word.
    s = searcher(tmp_path, [
        page("gu/app/", "એપ લોગિન", "<p>એપ ખોલો અને લોગિન કરો.</p>", "gu"),
        page("bn/returns/", "রিটার্ন পলিসি", "<p>সাত দিনের মধ্যে ফেরত দিন।</p>", "bn"),
        page("bn/orders/", "অর্ডার বাতিল", "<p>অর্ডার বাতিল করুন।</p>", "bn"),
    ])
    for query, url in (("એપમાંથી", "gu/app/"), ("পলিসির", "bn/returns/")):
        assert [h.url for h in s.search(query, mode="lexical")][:1] == [url], query


def test_a_word_the_pages_write_with_another_ending_finds_their_page(tmp_path: Path) -> None:
    # Every form below is a word the pages have, so nothing was corrected or prefix-matched:
    # ডিলিভারি's genitive ঢাকার "of Dhaka" never met ঢাকা, ব্যাংকে "at the bank" (stemmed
    # ব্যাং: the -কে of আপনাকে) never met ব্যাংক, and Gujarati ડિલિવરીનો "of the delivery"
    # (stemmed ડિલિવરી) never met the bare ડિલિવરી (stemmed ડિલિવર).
    s = searcher(tmp_path, [
        page("bn/shipping/express/", "ঢাকা সিটিতে এক্সপ্রেস", "<p>ঢাকা সিটিতে এক দিনে পৌঁছায়।</p>", "bn"),
        page("bn/shipping/outside/", "ঢাকার বাইরে", "<p>ঢাকার বাইরে তিন দিন লাগে।</p>", "bn"),
        page("bn/refunds/cod/", "ব্যাংক অ্যাকাউন্টে রিফান্ড", "<p>ব্যাংক অ্যাকাউন্টের নম্বর দিন।</p>", "bn"),
        page("bn/payments/failed/", "কার্ড ডিক্লাইন", "<p>ব্যাংকে ফোন করুন।</p>", "bn"),
        page("gu/shipping/charges/", "ડિલિવરી ચાર્જ", "<p>શહેરમાં ડિલિવરી મફત છે.</p>", "gu"),
        page("gu/orders/track/", "ઓર્ડર ટ્રેક", "<p>ડિલિવરીની તારીખ જુઓ.</p>", "gu"),
        page("gu/returns/wrong/", "ખોટી વસ્તુ આવી", "<p>પાછી આપવાની રીત.</p>", "gu"),
    ])
    # The Gujarati neuter (ખોટું "wrong") kept its ું while the feminine (ખોટી) lost its ી.
    for query, url in (("ঢাকার এক্সপ্রেস", "bn/shipping/express/"), ("ব্যাংকে রিফান্ড", "bn/refunds/cod/"),
                       ("ડિલિવરીનો ચાર્જ", "gu/shipping/charges/"), ("ખોટું પાર્સલ", "gu/returns/wrong/")):
        assert [h.url for h in s.search(query, mode="lexical")][:1] == [url], query
    # And the other way: the bare word finds the page that has only its inflected form.
    for query, url in (("ঢাকা", "bn/shipping/outside/"), ("ব্যাংক", "bn/payments/failed/"),
                       ("ડિલિવરી", "gu/orders/track/")):
        assert url in [h.url for h in s.search(query, mode="lexical")], query


def test_a_word_that_ends_like_an_inflection_is_not_joined_to_another_word(tmp_path: Path) -> None:
    # এরর "error" ends in র like the genitive ঢাকার, but after a consonant: it is not "of এর"
    # (এর "its", on every page). অর্ডার "order" ends in ার; the pages have no অর্ডা. A Gujarati
    # infinitive (આપવાની "of giving") is not the pronoun આપ "you".
    s = searcher(tmp_path, [
        page("bn/payments/error/", "পেমেন্ট এরর", "<p>এরর মেসেজের স্ক্রিনশট পাঠান।</p>", "bn"),
        page("bn/returns/policy/", "রিটার্ন পলিসি", "<p>এর পরে ফেরত নেওয়া হয় না।</p>", "bn"),
        page("gu/contact/", "સંપર્ક", "<p>આપ અમને ફોન કરો.</p>", "gu"),
        page("gu/returns/", "રિટર્ન", "<p>વસ્તુ પાછી આપવાની રીત.</p>", "gu"),
    ])
    assert [h.url for h in s.search("এরর", mode="lexical")] == ["bn/payments/error/"]
    assert s.lexical.build_query("এরর", "bn").terms == {"এরর"}
    assert "gu/contact/" not in [h.url for h in s.search("આપવાની", mode="lexical")]


def test_a_word_whose_last_letters_look_like_an_ending_keeps_them(tmp_path: Path) -> None:
    # সময় ("time") ends in য় like the locative ঢাকায় ("in Dhaka"), but after a consonant: the
    # য় is its own, and cut off it left সম ("equal"), so a question about time found the page
    # that says "equal amount". পছন্দের ("of the liking") was cut as পছন্ + দের, a dangling ্;
    # ফ્રી ("free") as ફ્ર, one conjunct.
    s = searcher(tmp_path, [
        page("bn/shipping/time/", "ডেলিভারির সময়", "<p>ঢাকায় ডেলিভারিতে এক দিন সময় লাগে।</p>", "bn"),
        page("bn/refunds/equal/", "সম পরিমাণ ফেরত", "<p>সম পরিমাণ টাকা ফেরত দেওয়া হয়।</p>", "bn"),
        page("bn/returns/liking/", "পছন্দ না হলে", "<p>পছন্দ না হলে সাত দিনে ফেরত দিন।</p>", "bn"),
        page("gu/shipping/free/", "ફ્રી ડિલિવરી", "<p>500 રૂપિયા ઉપર ડિલિવરી ફ્રી છે.</p>", "gu"),
    ])
    assert [h.url for h in s.search("সময়", mode="lexical")] == ["bn/shipping/time/"]
    assert [h.url for h in s.search("সময়ের", mode="lexical")] == ["bn/shipping/time/"]
    assert [h.url for h in s.search("পছন্দের", mode="lexical")] == ["bn/returns/liking/"]
    assert [h.url for h in s.search("ફ્રી", mode="lexical")] == ["gu/shipping/free/"]


def test_an_english_word_and_its_ing_or_ed_form_are_one_word(tmp_path: Path) -> None:
    # whoosh's Porter stemmer leaves the doubled consonant of "shipping", "wrapped", "stopped"
    # ("shipp"): where the pages had both words, "shipping to nepal" met only the page saying
    # "shipping", and not the one saying "we ship to Nepal" (a word the pages have is never
    # spell-corrected). l, s and z stay double, as Porter says ("billing" is "bill").
    s = searcher(tmp_path, [
        page("shipping/abroad/", "Abroad", "<p>We ship to Nepal in ten days.</p>"),
        page("returns/label/", "Return label", "<p>Shipping a return to us is free with our label.</p>"),
        page("gifts/", "Gifts", "<p>We wrap every gift in paper for free.</p>"),
        page("gifts/cards/", "Gift cards", "<p>Gift cards are wrapped and posted.</p>"),
    ])
    assert [h.url for h in s.search("ship to nepal", mode="lexical")][:1] == ["shipping/abroad/"]
    assert [h.url for h in s.search("shipping to nepal", mode="lexical")][:1] == ["shipping/abroad/"]
    assert [h.url for h in s.search("gift wrapping paper", mode="lexical")][:1] == ["gifts/"]
    assert normalize_word("shipping") == normalize_word("shipped") == normalize_word("ship")
    assert normalize_word("billing") == normalize_word("bill")


def test_english_words_a_shop_means_apart_are_not_one_stem(tmp_path: Path) -> None:
    # The Porter stem of "customer", "custom" and "customs" is one term, and "instalment" is the
    # "instal" of "installation": a question about customer care found the customs page, and
    # one about paying in instalments the installation guide.
    s = searcher(tmp_path, [
        page("contact/", "Customer care", "<p>Customer care answers every day from 9 to 9.</p>"),
        page("shipping/customs/", "Customs duty", "<p>Customs may charge import duty on parcels abroad.</p>"),
        page("made-to-order/", "Custom sizes", "<p>We make custom sizes in four weeks.</p>"),
        page("payments/emi/", "Pay in instalments", "<p>Pay in six monthly instalments with EMI.</p>"),
        page("products/fan/", "Fan installation", "<p>Installation of the fan takes one hour.</p>"),
    ])
    for query, want in (("customer care", "contact/"), ("customs duty", "shipping/customs/"),
                        ("custom size", "made-to-order/"), ("installment", "payments/emi/"),
                        ("fan installation", "products/fan/")):
        assert [h.url for h in s.search(query, mode="lexical")] == [want], query


def test_an_american_spelling_finds_the_british_pages_and_back(tmp_path: Path) -> None:
    # Help centers in Bangladesh and India write British English; shoppers' phones type
    # American. "center" was a word no page has (the question half unknown, so unanswered) and
    # "tire" was corrected into "time".
    s = searcher(tmp_path, [
        page("service/centres/", "Service centres", "<p>Our service centres in Dhaka and Ahmedabad fix any bike.</p>"),
        page("service/tyres/", "Flat tyre", "<p>A flat tyre or a puncture is fixed free in the first month.</p>"),
        page("orders/colours/", "Colours", "<p>Every frame comes in three colours; the colour is on the box.</p>"),
        page("orders/time/", "Delivery time", "<p>Delivery takes three days; the time is in your order e-mail.</p>"),
    ])
    for query, want in (("service center in dhaka", "service/centres/"), ("my tire is flat", "service/tyres/"),
                        ("what color options", "orders/colours/"), ("ahmedabad me service center kaha h", "service/centres/")):
        assert [h.url for h in s.search(query, mode="lexical")][:1] == [want], query
    lq = s.lexical.build_query("my tire is flat", "en")
    assert "time" not in lq.terms and lq.known == 1.0
    # The other way: British typed, American written.
    s = searcher(tmp_path / "us", [page("help/", "Help center", "<p>Our help center has a color chart.</p>")])
    assert [h.url for h in s.search("colour chart", mode="lexical")] == ["help/"]


def test_an_order_number_or_amount_is_not_an_unknown_word(tmp_path: Path) -> None:
    # "order status MD-5521-0917": the two numbers were words no page has, so the question was
    # 60 % known and declined though its page is first; an amount or a date likewise.
    s = searcher(tmp_path, [
        page("orders/track/", "Order status", "<p>Your order status is on the Orders page. Delivery in 3 days.</p>"),
        page("payments/cod/", "Cash on delivery", "<p>Pay cash on delivery for any order.</p>"),
    ])
    for query, plain in (("order status 5521-0917", "order status"),
                         ("cash on delivery for a 30000 taka order", "cash on delivery for a taka order")):
        assert s.lexical.build_query(query, "en").known == s.lexical.build_query(plain, "en").known, query
        assert [h.url for h in s.search(query, mode="lexical")][:1] == [h.url for h in s.search(plain, mode="lexical")][:1]
        assert s.search(query, mode="lexical").answered == s.search(plain, mode="lexical").answered
    assert s.lexical.build_query("order status", "en").known == 1.0
    # A number the pages have is a word like any other ("3 days"); numbers alone are no question.
    assert "3" in s.lexical.build_query("delivery in 3 days", "en").terms
    assert s.lexical.build_query("5521 0917", "en").known == 0.0
    assert not s.search("5521 0917", mode="lexical").answered


def test_a_short_hinglish_word_finds_its_glossary_word_by_its_spelling(tmp_path: Path) -> None:
    # "naam" (नाम, name) and "ghar" (घर, home): their phonetic keys ("nm", "gr") are too short
    # to look a word up by, so a Hinglish question never met the English pages' "name". Spelt
    # out as the native word is, it is that word; another word of the same two consonants is not.
    from kb_tools.search.lexical import load_glossary

    glossary = load_glossary()
    assert "name" in glossary.english("naam", romanized="hi", typed="naam")
    assert "home" in glossary.english("ghar", romanized="hi", typed="ghar")
    assert "name" not in glossary.english("nimu", romanized="hi", typed="nimu")
    # Spelt as typed, not loosely: "kat" (कट, money cut) is not खाट (khat, a bed), "dava"
    # (medicine) not ડબા (daba, a box).
    assert "deduct" in glossary.english("kat", romanized="hi", typed="kat")
    assert "bed" not in glossary.english("kat", romanized="hi", typed="kat")
    assert not {"jar", "contain"} & set(glossary.english("dava", romanized="gu", typed="dava"))
    # Two flower pages: only "naam" tells which one the question is about.
    s = searcher(tmp_path, [
        page("orders/cards/", "Flower message cards", "<p>Send flowers without your name: we leave it off the card.</p>"),
        page("flowers/care/", "Flower care", "<p>Keep flowers fresh: trim the stems and change the water.</p>"),
    ])
    query = "bina naam ke flowers bhejne hai"
    assert s.query_language(query) == "hi-Latn"
    assert "name" in s.lexical.build_query(query, "hi-Latn").terms
    assert [h.url for h in s.search(query, mode="lexical")][:1] == ["orders/cards/"]


def product_site(tmp_path: Path) -> Searcher:
    """A shop whose kettle guide says "kettle" in its title, summary and every section, beside
    the pages that answer what shoppers want about any product."""
    guide = ("<h2>Fill the kettle</h2><p>Fill the kettle to the line.</p>"
             "<h2>Descale the kettle</h2><p>Boil vinegar in the kettle, then rinse the kettle.</p>"
             "<h2>The kettle switches off early</h2><p>Descale the kettle.</p>")
    return searcher(tmp_path, [
        PageRecord(url="products/kettle/", title="Use and descale the kettle", html=guide, lang="en",
                   summary="How to fill and descale the kettle.", products=("steel-kettle",), tags=("kettle",)),
        PageRecord(url="returns/damaged-item/", title="Damaged item", lang="en",
                   summary="What to do when your order arrives broken or cracked.",
                   html="<p>If an item arrives broken, send us a photo within two days.</p>"),
        PageRecord(url="payments/emi/", title="Pay in instalments", lang="en",
                   summary="EMI on orders above 5000 rupees.",
                   html="<p>Pay for any product in monthly instalments with a credit card.</p>"),
        page("orders/track/", "Track your order", "<p>Your order's status is on the orders page.</p>"),
        page("payments/cards/", "Cards", "<p>We take credit and debit cards; pay in full or in instalments.</p>"),
        page("returns/warranty/", "Warranty", "<p>A product that stops working in its first year is repaired free,"
             " unless it was dropped or broken by misuse.</p>"),
    ])


def test_a_product_named_in_a_question_does_not_outrank_what_the_shopper_wants(tmp_path: Path) -> None:
    # The product's guide repeats its name in every field of every section: on the words alone
    # "my kettle is broken" found the kettle guide, not the damaged-item page. A product's
    # name (a word of a page's `products:`) now counts less than the question's other words.
    s = product_site(tmp_path)
    assert [h.url for h in s.search("my kettle is broken", mode="lexical")][:2] == ["returns/damaged-item/",
                                                                               "products/kettle/"]
    # What the guide answers, it still answers; a question of the product's name alone finds it.
    for query in ("descale the kettle", "kettle"):
        assert [h.url for h in s.search(query, mode="lexical")][:1] == ["products/kettle/"], query


def test_a_product_name_counts_whole_beside_a_word_the_pages_lack(tmp_path: Path) -> None:
    # "ukaalo" is no word of these pages: the product's name is the question's one sure sign
    # of its page, and keeps its full weight (as for a Gujarati question whose answer is an
    # English product guide).
    s = product_site(tmp_path)
    lq = s.lexical.build_query("kettle ukaalo", "en")
    assert lq.boosts == []
    assert s.lexical.build_query("kettle broken", "en").boosts == [lexical.PRODUCT_WEIGHT, 1.0]


def test_a_wallet_the_pages_write_in_latin_letters_is_found_by_its_bengali_spelling(tmp_path: Path) -> None:
    # The Bengali pages write the wallet "bKash" in Latin letters; a shopper writes বিকাশ, which
    # one other Bengali page also has. The wallet's page comes first. A product name the
    # Bengali pages also write in Latin letters (ব্লেন্ডার, "Blender") is searched in the
    # Bengali pages only, not in the English product manual; and রিফান্ড, which the Bengali
    # pages write in their script, is not searched as "refund" on the English pages.
    s = searcher(tmp_path, [
        page("bn/refunds/wallet/", "bKash-এ রিফান্ড", "<p>bKash-এ রিফান্ড তিন দিনে আসে।</p><h2>নম্বর</h2><p>bKash নম্বর দিন।</p>", "bn"),
        page("bn/payments/failed/", "পেমেন্ট হয়নি", "<p>bKash থেকে টাকা কেটেছে কিন্তু অর্ডার হয়নি।</p>", "bn"),
        page("bn/refunds/cod/", "ক্যাশ অন ডেলিভারির রিফান্ড", "<p>রিফান্ড বিকাশে বা ব্যাংকে পাঠানো হয়।</p>", "bn"),
        page("bn/orders/track/", "অর্ডার কোথায়", "<p>অর্ডার কোথায় আছে দেখুন। Blender এর অর্ডারও।</p>", "bn"),
        page("bn/products/", "Blender X2 পরিষ্কার", "<p>Blender X2 পরিষ্কার করুন।</p>", "bn"),
        page("bn/returns/", "ফেরত", "<p>ব্লেন্ডার ফেরত দিন।</p>", "bn"),
        page("products/blender/", "Blender X2", "<p>The Blender X2 blender. Blender jar, blender lid, blender motor.</p>"),
        page("refunds/", "Refunds", "<p>Refund refund refund: every refund in five days.</p>"),
    ])
    assert [h.url for h in s.search("বিকাশে রিফান্ড", mode="lexical")][:1] == ["bn/refunds/wallet/"]
    urls = [h.url for h in s.search("ব্লেন্ডার কোথায়", mode="lexical")]
    assert urls[:1] == ["bn/orders/track/"] and "products/blender/" not in urls
    assert "refunds/" not in [h.url for h in s.search("রিফান্ড", mode="lexical")]


def test_a_question_whose_only_word_is_the_product_finds_what_its_frame_asks(tmp_path: Path) -> None:
    # "where is my kettle" says nothing but the product's name and "where": on the words alone
    # it found the kettle guide, which says "kettle" everywhere. The question frame "where is
    # my X" (data/frames.yml) asks about the order's delivery, in any language.
    s = product_site(tmp_path)
    for query in ("where is my kettle", "when will my kettle arrive"):
        assert [h.url for h in s.search(query, mode="lexical")][:1] == ["orders/track/"], query
    # A question that says what it wants about the product is no frame question.
    for query in ("when should i descale the kettle", "kettle"):
        assert [h.url for h in s.search(query, mode="lexical")][:1] == ["products/kettle/"], query


def test_a_question_told_as_a_chat_message_keeps_its_frame(tmp_path: Path) -> None:
    # Told at length, the same question says when ("last week", "5 din se", "pichle hafte")
    # and names the order: those words say nothing else it wants, yet they kept the frame from
    # applying and the kettle guide came first.
    s = product_site(tmp_path)
    for query in ("i ordered a kettle last week and it still has not arrived, where is it",
                  "where is my kettle order", "mera kettle 5 din se nahi aaya",
                  "maine pichle hafte kettle order kiya tha, kab aayega"):
        assert [h.url for h in s.search(query, mode="lexical")][:1] == ["orders/track/"], query
    # A word that says what it wants about the product still leaves the frame out.
    for query in ("i got the kettle last week, when should i descale it",
                  "received a kettle instead of a toaster"):
        assert [h.url for h in s.search(query, mode="lexical")][:1] != ["orders/track/"], query


def test_a_product_written_in_bengali_letters_is_the_product(tmp_path: Path) -> None:
    # কেটলি is the shop's "kettle" in Bengali letters (its `products:` slug is English): it
    # names the product, so "আমার কেটলি কোথায়" ("where is my kettle") asks where the order
    # is, not how to use the kettle, whose Bengali guide says কেটলি and কোথায় too.
    s = searcher(tmp_path, [
        PageRecord(url="products/kettle/", title="Use the kettle", html="<p>Fill the kettle.</p>", lang="en",
                   products=("steel-kettle",)),
        page("bn/products/kettle/", "কেটলি ব্যবহার", "<h2>কেটলি কোথায় রাখবেন</h2><p>কেটলি সমান জায়গায় রাখুন। "
             "কেটলি পরিষ্কার রাখুন।</p>", "bn"),
        page("bn/orders/track/", "অর্ডার ট্র্যাক করুন", "<p>আপনার অর্ডার এখন কোথায় আছে দেখুন।</p>", "bn"),
        page("bn/contact/", "যোগাযোগ", "<p>ফোন করুন।</p>", "bn"),
    ])
    assert [h.url for h in s.search("আমার কেটলি কোথায়", mode="lexical")][:1] == ["bn/orders/track/"]
    assert s.lexical.build_query("কেটলি পরিষ্কার", "bn").boosts == [lexical.PRODUCT_WEIGHT, 1.0]
    # A word the glossary reads as another English word is that word (ফোন is "phone").
    assert not s.lexical.spells_product("ফোন", "ফোন")


def test_a_frames_file_with_a_bad_entry_names_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "frames.yml"
    bad.write_text("track order:\n  en: where\n  xx: kothay\n", encoding="utf-8")
    with pytest.raises(lexical.GlossaryError) as err:
        lexical.load_frames(bad)
    assert err.value.line == 3 and "unknown language 'xx'" in err.value.what
    assert [f.about for f in lexical.load_frames()] == ["track order delivery"]
