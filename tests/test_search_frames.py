"""Question frames (kb_tools/search/data/frames.yml, LexicalIndex.frame) and a shop's own (the
`frames_file` option): a question made of a product's name and the words that ask something
("where is my kettle", "my kettle is dead") finds what is asked, not the product's guide; a
shop adds the frames its shoppers use, checked like its glossary (path:line messages in
`kb check` and the build), copied into the index, and a change to them is a new index."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from kb_tools.cli import main
from kb_tools.records import PageRecord
from kb_tools.search import Searcher, build_index
from kb_tools.search.build import SITE_FRAMES, build_lexical_index
from tests.projects import help_center_yml, mkdocs_build, write

ROOT = Path(__file__).resolve().parent.parent

# What a shop's shoppers say when a product has stopped working: the warranty page answers
# "my kettle is dead", "kettle kharab ho gaya", which say nothing else.
FRAMES = """\
# Our shoppers' ways of saying a product stopped working
warranty repair:
  en: dead faulty
  hi-Latn: kharab
"""


def pages() -> list[PageRecord]:
    """A kettle guide that says "kettle" in its title, summary and every section, beside the
    pages that answer what shoppers want about any product."""
    guide = ("<h2>Fill the kettle</h2><p>Fill the kettle to the line.</p>"
             "<h2>Descale the kettle</h2><p>Boil vinegar in the kettle, then rinse the kettle.</p>")
    return [
        PageRecord(url="products/kettle/", title="Use and descale the kettle", html=guide, lang="en",
                   summary="How to fill and descale the kettle.", products=("steel-kettle",)),
        PageRecord(url="orders/track/", title="Track your order", lang="en",
                   html="<p>Your order's status is on the orders page.</p>"),
        PageRecord(url="returns/warranty/", title="Warranty repair", lang="en",
                   html="<p>A product that stops working in its first year is repaired free.</p>"),
        PageRecord(url="contact/", title="Contact us", lang="en", html="<p>Call us.</p>"),
    ]


def first(s: Searcher, question: str) -> str:
    hits = s.search(question, mode="lexical")
    return hits[0].url if hits else ""


@pytest.mark.parametrize("question", ["my kettle is dead", "kettle kharab ho gaya"])
def test_a_shops_own_frame_finds_what_its_shoppers_ask(tmp_path: Path, question: str) -> None:
    frames = write(tmp_path, "search/frames.yml", FRAMES)
    build_lexical_index(pages(), [], tmp_path / "with", frames=frames)
    build_lexical_index(pages(), [], tmp_path / "without")
    assert first(Searcher(tmp_path / "with"), question) == "returns/warranty/"
    assert first(Searcher(tmp_path / "without"), question) == "products/kettle/"


def test_the_shipped_frames_stay_with_a_shops_own(tmp_path: Path) -> None:
    # A site's frame of the same key adds its words to the shipped frame's.
    frames = write(tmp_path, "frames.yml", FRAMES + "track order delivery:\n  en: whereabouts\n")
    build_lexical_index(pages(), [], tmp_path / "idx", frames=frames)
    s = Searcher(tmp_path / "idx")
    assert (tmp_path / "idx" / SITE_FRAMES).read_text(encoding="utf-8") == frames.read_text(encoding="utf-8")
    assert first(s, "where is my kettle") == "orders/track/"
    assert first(s, "kettle whereabouts") == "orders/track/"
    assert [f.about for f in s.lexical.frames] == ["track order delivery", "warranty repair"]
    # A question that says what it wants about the product is no frame question.
    assert first(s, "descale the kettle") == "products/kettle/"


def test_a_change_to_the_frames_is_a_new_index_and_dropping_them_leaves_none(tmp_path: Path) -> None:
    frames = write(tmp_path, "frames.yml", FRAMES)
    index = tmp_path / "search_index"
    settings = {"model": "multilingual-e5-small", "cache_dir": tmp_path / "cache", "progress": False}
    built = build_index(pages(), [], index, frames=frames, **settings)
    assert build_index(pages(), [], index, frames=frames, **settings)["reused"]
    write(tmp_path, "frames.yml", FRAMES.replace("dead faulty", "dead faulty broke"))
    changed = build_index(pages(), [], index, frames=frames, **settings)
    assert not changed["reused"] and changed["fingerprint"] != built["fingerprint"]
    assert changed["embedded"] == 0  # only the frames changed: the vectors come from the cache
    assert "broke" in (index / SITE_FRAMES).read_text(encoding="utf-8")
    assert not build_index(pages(), [], index, **settings)["reused"]
    assert not (index / SITE_FRAMES).exists()


# A writer's mistakes in the frames file, on their lines, in kb check and the build alike.
CASES: dict[str, tuple[str, str]] = {
    "unknown language": ("warranty repair:\n  en: dead\n  bengali: নষ্ট\n",
                         "search/frames.yml:3: error: 'warranty repair': unknown language 'bengali' "
                         "(one of en, bn, gu, hi, bn-Latn, gu-Latn, hi-Latn)"),
    "word in another script": ("# ours\nwarranty repair:\n  bn: নষ্ট\n  gu: নষ্ট\n",
                               "search/frames.yml:4: error: 'warranty repair', gu: 'নষ্ট' is not written in the gu script"),
    "romanized word in native letters": ("warranty repair:\n  bn-Latn: nosto নষ্ট\n",
                                         "search/frames.yml:2: error: 'warranty repair', bn-Latn: 'নষ্ট' is not "
                                         "written in Latin letters"),
    "language listed twice": ("warranty repair:\n  en: dead\n  en: faulty\n",
                              "search/frames.yml:3: error: 'warranty repair': en is listed twice: put its words on one line"),
    "frame listed twice": ("warranty repair:\n  en: dead\nwarranty repair:\n  en: faulty\n",
                           "search/frames.yml:3: error: 'warranty repair' is listed twice: merge the two entries"),
    "words not given by language": ("warranty repair: dead faulty\n",
                                    "search/frames.yml:1: error: 'warranty repair': give the words that ask it by "
                                    "language, e.g. `en: where` (languages: en, bn, gu, hi, bn-Latn, gu-Latn, hi-Latn)"),
    "not valid YAML": ("warranty repair:\n  en: [dead\n",
                       "search/frames.yml:3: error: not valid YAML (expected ',' or ']', but got '<stream end>')"),
    "file missing": ("", "mkdocs.yml: error: plugins > kb > frames_file: there is no file search/frames.yml: "
                         "create it or fix the path (relative to mkdocs.yml)"),
}


def shop(root: Path, frames: str) -> Path:
    write(root, "mkdocs.yml", help_center_yml("Shop help", search=False, categories={"orders": "Orders"},
                                              frames_file="search/frames.yml"))
    write(root, "docs/index.md", "---\ntitle: Help\n---\n# Help\n\nAnswers for our shoppers.\n")
    write(root, "docs/orders/track.md", "---\ntitle: Track your order\ncategory: orders\n---\n# Track your order\n\n"
                                        "Open My orders and tap Track.\n")
    if frames:
        write(root, "search/frames.yml", frames)
    return root


def frames_problems(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()
            if re.match(r"^(search/\S+|mkdocs\.yml): (error|warning): ", line.strip())]


def kb_check(project: Path):
    return CliRunner().invoke(main, ["check", "-f", str(project / "mkdocs.yml")])


def test_a_right_frames_file_passes(tmp_path: Path) -> None:
    project = shop(tmp_path, FRAMES)
    assert kb_check(project).exit_code == 0
    assert mkdocs_build(project, "-q").returncode == 0


@pytest.mark.parametrize("case", sorted(CASES))
def test_kb_check_reports_a_mistake_in_the_frames_on_its_line(tmp_path: Path, case: str) -> None:
    text, expected = CASES[case]
    result = kb_check(shop(tmp_path, text))
    assert frames_problems(result.output) == [expected]
    assert result.exit_code == 1


@pytest.mark.parametrize("case", ["word in another script", "file missing"])
def test_the_build_stops_on_a_mistake_in_the_frames_with_its_line(tmp_path: Path, case: str) -> None:
    text, expected = CASES[case]
    project = shop(tmp_path, text)
    result = mkdocs_build(project, "-q")
    assert result.returncode == 1, result.stderr
    assert frames_problems(result.stderr) == [expected]
    assert not (project / "site").exists()


def test_the_fit_shops_tune_questions_name_their_pages() -> None:
    # bench/sites/<shop>/tune.yaml: questions that may be tuned on, kept apart from the shop's
    # all-held-out queries.yaml (bench_transfer --queries searches them).
    for site in ("ghor", "tulip", "bazaar"):
        folder = ROOT / "bench" / "sites" / site
        pages_ = {p.relative_to(folder / "docs").with_suffix("").as_posix() + "/" for p in (folder / "docs").rglob("*.md")}
        held = {d["q"] for d in yaml.safe_load((folder / "queries.yaml").read_text(encoding="utf-8"))}
        for d in yaml.safe_load((folder / "tune.yaml").read_text(encoding="utf-8")):
            assert d["split"] == "tune" and d["q"] not in held and set(d["expect"]) <= pages_, d


def furniture_shop(tmp_path: Path) -> Searcher:
    """A furniture shop whose pages declare no `products:` (as every shop written blind): its
    sofa is said on its delivery, care, returns and warranty pages, never in a title."""
    build_lexical_index([
        PageRecord(url="orders/track/", title="Track your order", lang="en", category="orders",
                   html="<p>Open My orders to see your order's status and its delivery date.</p>"),
        PageRecord(url="delivery/large-items/", title="Large-item delivery", lang="en", category="delivery",
                   html="<p>A sofa, a bed or a wardrobe comes in our own van; two people carry it in.</p>"),
        PageRecord(url="care/fabric/", title="Fabric care", lang="en", category="care",
                   html="<p>Vacuum the sofa every week. Keep the sofa out of the sun. Turn the sofa cushions.</p>"),
        PageRecord(url="returns/policy/", title="Return policy", lang="en", category="returns",
                   html="<p>Return a sofa or a bed within 7 days; the refund reaches you in 5 days.</p>"),
        PageRecord(url="returns/refunds/", title="Refunds", lang="en", category="returns",
                   html="<p>Your refund reaches your card in 5 working days.</p>"),
        PageRecord(url="warranty/", title="Warranty", lang="en", category="warranty",
                   html="<p>A sofa's frame has a five-year warranty.</p>"),
    ], [], tmp_path / "furniture")
    return Searcher(tmp_path / "furniture")


def test_on_a_shop_without_products_a_thing_it_sells_is_a_product(tmp_path: Path) -> None:
    # "where is my sofa" asks where the order is; on the words alone the sofa care page (which
    # says "sofa" three times) came first, as no page declares the sofa a product.
    s = furniture_shop(tmp_path)
    for question in ("where is my sofa", "when will my sofa arrive", "mera sofa kab aayega"):
        assert first(s, question) == "orders/track/", question
    assert s.lexical.is_thing("sofa") and s.lexical.is_thing("bed")
    # A help topic is no thing: "refund" is general shop help, "warranty" names a page.
    assert not s.lexical.is_thing("refund") and not s.lexical.is_thing("warranti")
    assert first(s, "where is my refund") == "returns/refunds/"
    # A question that says what it wants about the sofa keeps its page.
    assert first(s, "vacuum the sofa") == "care/fabric/"

