"""A shop's own words (the `glossary_file` and `synonyms_file` options): what shoppers call
the shop's products in Bengali, in Banglish and in English finds the English page that names
them, from the built index alone (`kb search` on a server with no mkdocs.yml), and a change to
the words is a new index. Bad entries are pinned in tests/test_build_errors.py."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb_tools.cli import main
from kb_tools.records import PageRecord
from kb_tools.search import build_index
from kb_tools.search.build import SITE_GLOSSARY, SITE_SYNONYMS
from tests.projects import help_center_yml, mkdocs_build, write
from tests.servers import mkdocs_serve

CATEGORIES = {"speakers": "Speakers", "orders": "Orders", "payments": "Payments", "returns": "Returns"}

# A fictional product: its pages say "Zuno"; Bengali shoppers call it গানবাক্স ("song box"),
# Gujarati ones ગીતડબ્બો, Hindi ones गानाडिब्बा, which no dictionary, transliteration or
# encoder knows.
GLOSSARY = """\
# What our shoppers call our products
zuno:
  bn: গানবাক্স
  bn-Latn: ganbaksho ganbakso
  gu: ગીતડબ્બો
  hi: गानाडिब्बा
"""
# "handcash": what some shoppers say for paying the courier; "mobile banking": for bKash.
SYNONYMS = "cash on delivery: [handcash]\nbkash: [mobile banking]\n"

ARTICLES = {
    "speakers/switch-on.md": ("Switch on your Zuno", "speakers",
                              "Hold the Zuno's round button for five seconds until its light blinks blue. "
                              "If the Zuno stays dark, charge it for two hours with its own cable."),
    "speakers/pair.md": ("Pair your Zuno with a phone", "speakers",
                         "Open Bluetooth on your phone and pick Zuno from the list. The Zuno remembers five phones."),
    "orders/track-order.md": ("Track your order", "orders", "Open My orders and tap Track to see where your parcel is."),
    "orders/cancel-order.md": ("Cancel an order", "orders",
                               "You can cancel an order until it is packed: open My orders and tap Cancel."),
    "payments/bkash.md": ("Pay with bKash", "payments", "Choose bKash at checkout and approve the payment in the bKash app."),
    "payments/cash-on-delivery.md": ("Cash on delivery", "payments", "Pay the courier in cash when the parcel arrives."),
    "returns/start-a-return.md": ("Start a return", "returns", "Return an item within seven days of delivery from My orders."),
    "bn/orders/track-order.md": ("অর্ডার ট্র্যাক করুন", "orders", "আমার অর্ডার খুলে ট্র্যাক চাপুন, দেখবেন পার্সেল কোথায় আছে।"),
    "bn/payments/bkash.md": ("বিকাশে পেমেন্ট", "payments", "চেকআউটে বিকাশ বেছে নিন এবং বিকাশ অ্যাপে পেমেন্ট অনুমোদন করুন।"),
    "bn/returns/start-a-return.md": ("পণ্য ফেরত দিন", "returns", "ডেলিভারির সাত দিনের মধ্যে আমার অর্ডার থেকে পণ্য ফেরত দিন।"),
}


def shop(root: Path, *, words: bool) -> Path:
    """The help center of a shop that sells the Zuno, with or without its own words."""
    options = {"glossary_file": "search/glossary.yml", "synonyms_file": "search/synonyms.yml"} if words else {}
    write(root, "mkdocs.yml", help_center_yml("Shop help", categories=CATEGORIES, languages=("en", "bn"), **options))
    write(root, "docs/index.md", "---\ntitle: Help\n---\n# Help\n\nAnswers for our shoppers.\n")
    for rel, (title, category, body) in ARTICLES.items():
        write(root, f"docs/{rel}", f"---\ntitle: {title}\ncategory: {category}\n---\n# {title}\n\n{body}\n")
    if words:
        write(root, "search/glossary.yml", GLOSSARY)
        write(root, "search/synonyms.yml", SYNONYMS)
    return root


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> dict[bool, Path]:
    """Each shop built, and its index copied alone to a server's folder (no mkdocs.yml, no
    glossary file): with its words (True) and without (False)."""
    out = {}
    for words in (True, False):
        project = shop(tmp_path_factory.mktemp("shop"), words=words)
        result = mkdocs_build(project, "-q")
        assert result.returncode == 0, result.stderr
        server = tmp_path_factory.mktemp("server")
        shutil.copytree(project / "search_index", server / "search_index")
        out[words] = server
    return out


def kb_search(server: Path, question: str, *args: str, monkeypatch: pytest.MonkeyPatch) -> dict:
    """`kb search --json` run where the server keeps its index, as on a host without mkdocs.yml."""
    monkeypatch.chdir(server)
    result = CliRunner().invoke(main, ["search", "--json", *args, question])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def first_page(found: dict) -> str:
    return found["hits"][0]["url"].split("#")[0] if found["hits"] else ""


@pytest.mark.parametrize(("question", "args", "answer"), [
    # Banglish: "how do I switch on the ganbaksho", "my ganbakso won't turn on".
    ("ganbaksho kivabe chalu korbo", (), "speakers/switch-on/"),
    ("amar ganbakso chalu hocche na", (), "speakers/switch-on/"),
    # Bengali script: the same question, in lexical mode.
    ("গানবাক্স কিভাবে চালু করব", ("--mode", "lexical"), "speakers/switch-on/"),
    # In their own scripts, hybrid: the encoder carries most of such a question's score
    # and cannot know the shop's word, so it reads the page's word too ("my ganbaksho won't
    # turn on"; the Bengali one with the article -টা, which the glossary does not list).
    ("আমার গানবাক্সটা চালু হচ্ছে না", (), "speakers/switch-on/"),
    ("મારો ગીતડબ્બો ચાલુ થતો નથી", (), "speakers/switch-on/"),
    # "how do I switch the ganbaksho on": the object case, ગીતડબ્બો -> ગીતડબ્બાને.
    ("ગીતડબ્બાને કેવી રીતે ચાલુ કરવો", (), "speakers/switch-on/"),
    ("मेरा गानाडिब्बा चालू नहीं हो रहा", (), "speakers/switch-on/"),
    # English: the shop's own synonym.
    ("can i pay handcash", (), "payments/cash-on-delivery/"),
])
def test_the_shops_own_word_finds_the_page_that_names_it(served: dict[bool, Path], question: str,
                                                         args: tuple[str, ...], answer: str,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    assert not (served[True] / "mkdocs.yml").exists()
    assert first_page(kb_search(served[True], question, *args, monkeypatch=monkeypatch)) == answer
    assert first_page(kb_search(served[False], question, *args, monkeypatch=monkeypatch)) != answer


@pytest.mark.parametrize(("question", "answer"), [
    ("mobile banking", "payments/bkash/"),
    # "mobile" and "banking" alone are not bKash: a phrase counts only with its words together.
    ("does it work with any mobile", "speakers/pair/"),
    ("refund to my online banking", "returns/start-a-return/"),
])
def test_a_synonym_phrase_counts_only_as_the_phrase(served: dict[bool, Path], question: str, answer: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    assert first_page(kb_search(served[True], question, monkeypatch=monkeypatch)) == answer


def test_the_index_carries_the_sites_words_as_written(served: dict[bool, Path]) -> None:
    index = served[True] / "search_index"
    assert (index / SITE_GLOSSARY).read_text(encoding="utf-8") == GLOSSARY
    assert (index / SITE_SYNONYMS).read_text(encoding="utf-8") == SYNONYMS
    assert not (served[False] / "search_index" / SITE_GLOSSARY).exists()


def pages() -> list[PageRecord]:
    return [PageRecord(url=rel.removesuffix(".md") + "/", title=title, html=f"<p>{body}</p>", lang="bn" if rel.startswith("bn/") else "en",
                       category=category, src_path=rel) for rel, (title, category, body) in ARTICLES.items()]


def test_a_change_to_the_words_is_a_new_index_and_dropping_them_leaves_none(tmp_path: Path) -> None:
    glossary = write(tmp_path, "glossary.yml", GLOSSARY)
    index = tmp_path / "search_index"
    settings = {"model": "multilingual-e5-small", "cache_dir": tmp_path / "cache", "progress": False}
    first = build_index(pages(), [], index, glossary=glossary, **settings)
    assert build_index(pages(), [], index, glossary=glossary, **settings)["reused"]
    write(tmp_path, "glossary.yml", GLOSSARY + "cable:\n  bn: তার\n")
    changed = build_index(pages(), [], index, glossary=glossary, **settings)
    assert not changed["reused"] and changed["fingerprint"] != first["fingerprint"]
    assert changed["embedded"] == 0  # the pages' vectors come from the cache: only the words changed
    assert "তার" in (index / SITE_GLOSSARY).read_text(encoding="utf-8")
    dropped = build_index(pages(), [], index, **settings)
    assert not dropped["reused"]
    assert not (index / SITE_GLOSSARY).exists()


def test_mkdocs_serve_logs_a_bad_entry_and_picks_up_the_fix(tmp_path: Path) -> None:
    """As with a page's mistake, `mkdocs serve` logs it and keeps serving; its preview searches
    without the site's words until the file is fixed, and saving the fix rebuilds the index."""
    project = shop(tmp_path, words=True)
    write(project, "search/glossary.yml", "zuno:\n  bn: গানবাক্স\n  gu: গানবাক্স\n")
    with mkdocs_serve(project) as serve:
        serve.wait_for("Serving on")
        assert "search/glossary.yml:3: error: 'zuno', gu: 'গানবাক্স' is not written in the gu script" in "".join(serve.log)
        assert not (project / "search_index" / SITE_GLOSSARY).exists()
        assert not (project / "search_index" / SITE_SYNONYMS).exists()
        write(project, "search/glossary.yml", GLOSSARY)
        serve.wait_for("Reloading browsers")
        assert (project / "search_index" / SITE_GLOSSARY).read_text(encoding="utf-8") == GLOSSARY
