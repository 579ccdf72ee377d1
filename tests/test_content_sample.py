"""The sample help center's content: policy numbers only come from policy.yml, translations
mirror English pages, the relevance sets point at pages that exist, and the Gujarati UI
labels cover every key Material uses. Static checks on the files writers edit (no build)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
LANGS = ("bn", "gu")
DIGITS = {"bn": "০১২৩৪৫৬৭৮৯", "gu": "૦૧૨૩૪૫૬૭૮૯"}
FACT = re.compile(r"\{\{.*?\}\}")
UNITS = r"(?:days?|hours?|months?|minutes?|working days?|দিন\w*|ঘণ্টা\w*|মাস\w*|কর্মদিবস\w*|દિવસ\w*|કલાક\w*|મહિના\w*)"
BITEXT_INTENTS = {
    "cancel_order", "change_order", "change_shipping_address", "check_cancellation_fee",
    "check_invoice", "check_payment_methods", "check_refund_policy", "complaint",
    "contact_customer_service", "contact_human_agent", "create_account", "delete_account",
    "delivery_options", "delivery_period", "edit_account", "get_invoice", "get_refund",
    "newsletter_subscription", "payment_issue", "place_order", "recover_password",
    "registration_problems", "review", "set_up_shipping_address", "switch_account",
    "track_order", "track_refund",
}
TOP_TASKS = (
    "orders/track-your-order.md", "returns/start-a-return.md", "refunds/refund-status.md",
    "shipping/delivery-times.md", "orders/cancel-an-order.md", "payments/payment-failed.md",
    "contact/contact-us.md",
)


def front_matter(path: Path) -> tuple[dict, str]:
    text = path.read_text(encoding="utf-8")
    m = re.match(r"---\n(.*?)\n---\n", text, re.S)
    assert m, f"{path.relative_to(ROOT)}: no front matter"
    return yaml.safe_load(m.group(1)), text[m.end():]


def policy_values() -> dict[str, object]:
    flat: dict[str, object] = {}

    def walk(node: dict, prefix: str) -> None:
        for key, value in node.items():
            if isinstance(value, dict):
                walk(value, f"{prefix}{key}.")
            else:
                flat[f"{prefix}{key}"] = value

    walk(yaml.safe_load((ROOT / "policy.yml").read_text(encoding="utf-8")), "")
    return flat


def localized(text: str) -> set[str]:
    return {text} | {text.translate(str.maketrans("0123456789", d)) for d in DIGITS.values()}


def article_bodies() -> list[tuple[str, str]]:
    """(path, body with every {{ ... }} reference removed) for every Markdown page."""
    out = []
    for path in sorted(DOCS.rglob("*.md")):
        _, body = front_matter(path)
        out.append((str(path.relative_to(ROOT)), FACT.sub("", body)))
    return out


def page_for_url(url: str) -> bool:
    """Does a site-relative directory URL ("returns/start-a-return/") have a source?"""
    slug = url.strip("/")
    if slug.startswith("videos/"):
        return (ROOT / "videos" / f"{slug.split('/', 1)[1]}.yml").exists()
    return (DOCS / f"{slug}.md").exists() or (DOCS / slug / "index.md").exists()


def test_money_and_phone_numbers_are_never_typed_in_an_article() -> None:
    typed = []
    for key, value in policy_values().items():
        if not isinstance(value, str) or not re.search(r"[৳₹$+]", value):
            continue
        for path, body in article_bodies():
            for form in localized(value):
                if form in body:
                    typed.append(f"{path}: '{form}' typed literally; write {{{{ policy.{key} }}}}")
    assert typed == []


def test_day_hour_and_month_limits_are_never_typed_in_an_article() -> None:
    numbers = {str(v) for k, v in policy_values().items() if isinstance(v, int) and v >= 7}
    numbers |= {v for v in policy_values().values() if isinstance(v, str) and re.fullmatch(r"\d+–\d+", v)}
    typed = []
    for path, body in article_bodies():
        for number in numbers:
            for form in localized(number):
                for m in re.finditer(rf"(?<![\d০-৯૦-૯–-]){re.escape(form)}\s*-?\s*{UNITS}", body):
                    typed.append(f"{path}: '{m.group(0)}' — use the policy fact instead")
    assert typed == []


@pytest.mark.parametrize("lang", LANGS)
def test_translations_mirror_an_english_page(lang: str) -> None:
    pages = sorted((DOCS / lang).rglob("*.md"))
    articles = [p for p in pages if p.name != "index.md"]
    assert len(articles) >= (10 if lang == "bn" else 7)
    for page in articles:
        rel = page.relative_to(DOCS / lang)
        english = DOCS / rel
        assert english.exists(), f"docs/{lang}/{rel} translates docs/{rel}, which does not exist"
        meta, _ = front_matter(page)
        en_meta, _ = front_matter(english)
        for key in ("category", "contact_topic", "videos"):
            assert meta.get(key) == en_meta.get(key), f"docs/{lang}/{rel}: {key} differs from English"
        assert not re.search(r"[A-Za-z]{4,} [A-Za-z]{4,} [A-Za-z]{4,}", meta["title"]), (
            f"docs/{lang}/{rel}: the title is still in English"
        )


@pytest.mark.parametrize("home", ["index.md", "bn/index.md", "gu/index.md"])
def test_home_pages_show_the_seven_top_tasks_as_cards(home: str) -> None:
    _, body = front_matter(DOCS / home)
    assert '<div class="grid cards" markdown>' in body
    grid = body.split('<div class="grid cards" markdown>', 1)[1].split("</div>", 1)[0]
    links = re.findall(r"\]\(([^)]+\.md)\)", grid)
    assert links == list(TOP_TASKS)
    for link in links:
        assert ((DOCS / home).parent / link).exists(), f"docs/{home}: card links to missing {link}"


def test_relevance_set_points_at_real_pages_in_the_right_language() -> None:
    import hashlib
    from collections import Counter

    queries = yaml.safe_load((ROOT / "bench" / "queries.yaml").read_text(encoding="utf-8"))
    langs = {"en", "bn", "gu", "hi", "bn-Latn", "gu-Latn", "hi-Latn"}
    kinds = Counter()
    counts = Counter()
    for q in queries:
        assert set(q) == {"q", "lang", "kind", "split", "expect"}, q
        assert q["lang"] in langs and q["split"] in ("tune", "heldout"), q
        kinds[q["kind"]] += 1
        counts[q["lang"]] += 1
        if q["split"] == "heldout":  # the split was fixed up front by hash, never by hand
            assert int(hashlib.sha1(q["q"].encode("utf-8")).hexdigest(), 16) % 100 < 40, q["q"]
        if q["kind"] == "no-answer":
            assert q["expect"] == [], f"{q['q']!r} is a no-answer query with an answer"
            continue
        assert q["expect"], f"{q['q']!r} expects no page"
        for url in q["expect"]:
            assert url.endswith("/") and page_for_url(url), f"{q['q']!r}: no page for {url}"
        lang = q["lang"].split("-")[0]
        if q["kind"] == "cross-lingual":  # the answer exists only in English
            best = q["expect"][0]
            assert not best.startswith(("bn/", "gu/", "hi/")) and not page_for_url(f"{lang}/{best}"), q["q"]
        elif lang in ("bn", "gu"):
            assert q["expect"][0].startswith(lang + "/"), f"{q['q']!r}: best answer not in {lang}"
    assert set(kinds) == {"native", "romanized", "code-mixed", "cross-lingual", "no-answer"}, kinds
    assert kinds["romanized"] >= 60 and kinds["code-mixed"] >= 20 and kinds["cross-lingual"] >= 30, kinds
    assert kinds["no-answer"] >= 40, kinds
    assert counts["en"] >= 110 and counts["bn"] >= 35 and counts["gu"] >= 20, counts
    assert counts["bn-Latn"] >= 20 and counts["gu-Latn"] >= 20, counts
    assert len({q["q"] for q in queries}) == len(queries), "a query is listed twice"


def test_every_bitext_intent_maps_to_pages_that_exist() -> None:
    mapping = yaml.safe_load((ROOT / "bench" / "bitext_intents.yaml").read_text(encoding="utf-8"))
    assert set(mapping) == BITEXT_INTENTS
    for intent, urls in mapping.items():
        assert 1 <= len(urls) <= 2, intent
        assert all(page_for_url(u) for u in urls), f"{intent}: {urls}"


def test_gujarati_ui_labels_translate_every_material_key() -> None:
    import material

    def labels(path: Path) -> dict[str, str]:
        return dict(re.findall(r'^\s*"([a-z.]+)": "(.*)",?$', path.read_text(encoding="utf-8"), re.M))

    reference = labels(Path(material.__file__).parent / "templates/partials/languages/bn.html")
    gujarati = labels(ROOT / "kb_tools/templates/partials/languages/gu.html")
    assert set(gujarati) == set(reference)
    assert gujarati["language"] == "gu"
    untranslated = [
        k for k, v in gujarati.items()
        if k not in ("language", "search.config.pipeline", "rss.created") and not re.search(r"[\u0A80-\u0AFF]", v)
    ]
    assert untranslated == []
