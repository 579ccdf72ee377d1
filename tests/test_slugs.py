"""Heading anchors: readable in every script, so search hits link to a real section."""

from kb_tools.slugs import slugify


def test_bengali_gujarati_and_hindi_words_stay_whole() -> None:
    assert slugify("ধাপ ১: আমার অর্ডার খুলুন") == "ধাপ-১-আমার-অর্ডার-খুলুন"
    assert slugify("સ્ટેપ ૨ — રિફંડ") == "સ્ટેપ-૨-રિફંડ"
    assert slugify("रिफ़ंड कब मिलेगा?") == "रिफ़ंड-कब-मिलेगा"


def test_english_anchors_match_markdowns_own() -> None:
    assert slugify("Step 1: Open My Orders") == "step-1-open-my-orders"
    assert slugify("Don't re-use it!") == "dont-re-use-it"
    assert slugify("  ") == ""


def test_zero_width_joiners_are_kept() -> None:
    assert slugify("র\u200dযাব") == "র\u200dযাব"
