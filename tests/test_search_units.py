"""A number typed glued to its unit ("4pm", "2kg") where the pages write "4 pm" (round 13, what
the phool shop showed): it is searched as the number and the unit (LexicalIndex.unglued), where
the glued word, no page word, used to drop out of the query. Lexical mode: the words alone
decide, as they do for a shop's first search before the model loads."""

from __future__ import annotations

import pytest

from kb_tools.records import PageRecord
from kb_tools.search import Searcher
from kb_tools.search.build import build_lexical_index


def pages() -> list[PageRecord]:
    """A small flower and cake shop: the flower-care and same-day pages say their word in the
    title, every heading, the tags and the body; the answers to the questions below say the
    rare word once, in a body or a tag."""
    care = ("<h2 id='care'>Caring for your flowers</h2><p>Cut the flowers' stems and put the flowers in "
            "cool water.</p><h2 id='photo'>When flowers differ from the photo</h2><p>Seasonal flowers "
            "may be replaced by flowers of the same value.</p>")
    same_day = ("<h2 id='fee'>Same-day delivery fee</h2><p>Delivery today costs extra; orders after "
                "4 pm go out for delivery tomorrow.</p><h2 id='cakes'>Cakes by delivery</h2>"
                "<p>Cakes need two hours before delivery.</p>")
    return [
        PageRecord(url="flowers/care/", title="Flower care and freshness", html=care, lang="en",
                   summary="How long flowers last and how to care for flowers.",
                   tags=("flowers", "fresh flowers", "flower care")),
        PageRecord(url="delivery/same-day/", title="Same-day delivery", html=same_day, lang="en",
                   summary="Delivery today: the cut-off and the delivery fee.",
                   tags=("same day delivery", "delivery today", "delivery fee")),
        PageRecord(url="delivery/where/", title="Where we deliver", lang="en",
                   html="<p>We have riders in Dhaka and Kolkata. We cannot send parcels to other "
                        "cities such as Sylhet or Khulna.</p>",
                   summary="The cities we cover.", tags=("delivery area", "cities")),
        PageRecord(url="delivery/slots/", title="Time slots", lang="en",
                   html="<p>Choose a slot at checkout: 9 am to 1 pm, 1 pm to 5 pm or 5 pm to 8 pm.</p>",
                   summary="The slots you can choose.", tags=("slot", "time")),
        PageRecord(url="orders/change/", title="Change the address or date", lang="en",
                   html="<p>Open My orders and choose Edit before the cut-off.</p>",
                   summary="Change where or when your gift arrives.",
                   tags=("change address", "change date", "reschedule")),
    ] + [
        # The rest of the shop: its goods and its delivery are named on every topic's page.
        PageRecord(url=f"help/{slug}/", title=title, lang="en", summary=f"{title} for flowers and cakes.",
                   html=f"<p>{title}: for flowers, cakes and gifts, before or after delivery. {body}</p>")
        for slug, title, body in (
            ("payments", "Payment methods", "Pay by card or cash for the flowers on delivery."),
            ("refunds", "Refunds", "A refund for flowers that came late goes back to your card."),
            ("coupons", "Coupons", "A coupon takes money off flowers but not off the delivery fee."),
            ("cards", "Message cards", "Every bouquet of flowers comes with a free message card."),
            ("festivals", "Festival orders", "On Eid and Diwali order the flowers two days before delivery."),
            ("contact", "Contact us", "Call us about flowers, cakes or a delivery."),
        )
    ]


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Searcher:
    index = tmp_path_factory.mktemp("titles") / "idx"
    build_lexical_index(pages(), [], index)
    return Searcher(index)


def first(s: Searcher, question: str) -> str:
    hits = s.search(question, mode="lexical")
    return hits[0].url.split("#")[0] if hits else ""


@pytest.mark.parametrize("question", ["gift at 8pm", "gift at 8 pm"])
def test_a_time_typed_glued_to_its_unit_is_searched_as_the_pages_write_it(searcher: Searcher, question: str) -> None:
    # The slots page writes "8 pm"; "8pm" is no page word and used to drop out of the query,
    # leaving "gift" alone to the page on changing when a gift arrives.
    assert first(searcher, question) == "delivery/slots/"


def test_a_glued_word_is_split_only_into_page_words(searcher: Searcher) -> None:
    lexical = searcher.lexical
    assert lexical.unglued("flowers at 4pm, 2kg of sweets on the 5th") == "flowers at 4 pm, 2kg of sweets on the 5th"
