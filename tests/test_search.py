"""The search engine without the embedding model: analyzer, chunks, the lexical index, the
Searcher's guarantees (bad input, escaping, filters, grouping) and `kb search`."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner
from whoosh.analysis import StandardAnalyzer
from whoosh.scoring import BM25F

from kb_tools.errors import SearchIndexError
from kb_tools.records import Chapter, Cue, PageRecord, VideoRecord
from kb_tools.search import Context, Hit, QueryError, Searcher, SearchQuery, SearchResults
from kb_tools.search.analyzer import detect_script, terms, words
from kb_tools.search.build import build_lexical_index
from kb_tools.search.chunking import chunk_page
from kb_tools.search.cli import search as search_cmd
from kb_tools.search.lexical import TEXT_FIELDS, PostingLists

BN_TITLE = "কিভাবে পণ্য ফেরত দেবেন"
GU_TITLE = "તમારા ઓર્ડરની સ્થિતિ કેવી રીતે તપાસવી"
HI_TITLE = "अपना ऑर्डर वापस कैसे करें"


def page(url: str, title: str, body: str, lang: str = "en", **kw: object) -> PageRecord:
    return PageRecord(url=url, title=title, html=body, lang=lang, **kw)  # type: ignore[arg-type]


def sample_pages() -> list[PageRecord]:
    return [
        page("returns/start-a-return/", "Start a return",
             "<h1 id='start-a-return'>Start a return</h1><p>You can send an item back within 7 days.</p>"
             "<h2 id='step-1'>Step 1: open your orders<a class='headerlink' href='#step-1'>¶</a></h2>"
             "<p>Sign in and open My orders, then choose the item to return.</p>"
             "<h2 id='step-2'>Step 2: pack the item</h2><p>Pack the item in its original box with all parts.</p>"
             "<h3 id='labels'>Printing the label</h3><p>Print the return label and tape it to the box.</p>",
             category="returns", products=("blender-x2",)),
        page("shipping/delivery-times/", "Delivery times",
             "<p>Orders inside Dhaka arrive in 1–2 working days.</p><h2 id='outside'>Outside Dhaka</h2>"
             "<p>Other districts take 3–5 working days by courier.</p>", category="shipping"),
        page("products/kettle-k1/", "Descale the Kettle K1",
             "<p>Scale builds up in hard water areas.</p><h2 id='vinegar'>With vinegar</h2>"
             "<p>Boil half water, half vinegar, and rinse twice.</p>"
             "<h2 id='security'>A note about odd characters</h2>"
             "<p>Never paste &lt;img src=x onerror=alert(1)&gt; into the kettle app.</p>",
             category="products", products=("kettle-k1",)),
        page("products/blender-x2/", "Blender X2 cleaning",
             "<p>Rinse the jar of the blender with warm water after each use, then dry it.</p><h2 id='blades'>Blades</h2>"
             "<p>Clean the blender blades with a brush; return the blades if they are bent.</p>",
             category="products", products=("blender-x2",)),
        page("bn/returns/start-a-return/", BN_TITLE,
             "<p>৭ দিনের মধ্যে ফেরতের অনুরোধ করুন। আমার অর্ডার পাতা থেকে শুরু করুন।</p>",
             lang="bn", category="returns"),
        page("gu/orders/track/", GU_TITLE, "<p>મારા ઓર્ડર પાનું ખોલો અને ટ્રેકિંગ નંબર જુઓ.</p>",
             lang="gu", category="orders"),
        page("hi/returns/start/", HI_TITLE, "<p>सात दिनों के भीतर वापसी का अनुरोध करें।</p>",
             lang="hi", category="returns"),
    ]


def sample_videos() -> list[VideoRecord]:
    cues = (
        Cue(0.0, 4.0, "Hello, this video shows how to descale your kettle."),
        Cue(4.0, 9.5, "First fill the kettle halfway with water"),
        Cue(9.5, 14.0, "and add the same amount of white vinegar."),
        Cue(14.0, 20.0, "Boil it, wait twenty minutes, then pour it away."),
        Cue(20.0, 26.0, "Now unscrew the limescale filter at the spout"),
        Cue(26.0, 31.7, "and soak the filter in lemon juice overnight to dissolve the limescale."),
    )
    return [VideoRecord(id="descale-kettle", url="videos/descale-kettle/", title="Descaling a kettle",
                        lang="en", summary="Two ways to remove scale.", category="products",
                        products=("kettle-k1",), chapters=(Chapter(0.0, "Vinegar"), Chapter(20.0, "Filter")),
                        cues=cues)]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lexical") / "search_index"
    build_lexical_index(sample_pages(), sample_videos(), out)
    return out


@pytest.fixture(scope="module")
def searcher(index_dir: Path) -> Searcher:
    return Searcher(index_dir)


# -- analyzer ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "আমি কিভাবে পণ্য ফেরত দেব", "ઓર્ડરની સ્થિતિ કેવી રીતે તપાસવી", "मैं अपना ऑर्डर कैसे वापस करूं",
])
def test_analyzer_keeps_indic_words_whole(text: str) -> None:
    whole = text.split()
    assert [w.term for w in words(text, stem=False, stopwords=False)] == whole
    # whoosh's own analyzer cuts these words at vowel signs and viramas: that is the bug we fix.
    assert [t.text for t in StandardAnalyzer()(text)] != whole


def test_analyzer_stems_english_and_strips_one_indic_suffix() -> None:
    assert terms("Returning returns") == ["return", "return"]
    assert terms("ফেরতের") == terms("ফেরত") == ["ফেরত"]
    assert terms("ઓર્ડરની") == ["ઓર્ડર"]
    assert terms("৭ দিন") [0] == "7"  # Bengali digits meet ASCII digits
    assert terms("hello 😀 ¿¡ ..!") == ["hello"]
    assert detect_script("ফেরত blender") == "bn" and detect_script("refund") is None


# -- chunking ---------------------------------------------------------------------------------

def test_chunks_follow_headings_with_anchors_and_heading_path() -> None:
    chunks = chunk_page(sample_pages()[0])
    assert [c.url for c in chunks] == [
        "returns/start-a-return/", "returns/start-a-return/#step-1",
        "returns/start-a-return/#step-2", "returns/start-a-return/#labels",
    ]
    assert chunks[0].text == "You can send an item back within 7 days."  # h1 is the title, not body
    assert chunks[1].section == "Step 1: open your orders"  # the ¶ permalink is not text
    assert chunks[3].heading_path == ("Step 2: pack the item", "Printing the label")


def test_long_sections_are_split_with_overlap() -> None:
    body = " ".join(f"w{i}" for i in range(500))
    chunks = chunk_page(page("a/", "A", f"<h2 id='x'>X</h2><p>{body}</p>"))
    assert len(chunks) >= 3 and all(c.url == "a/#x" for c in chunks)
    first, second = chunks[0].text.split(), chunks[1].text.split()
    assert first[-1] in second and len(first) <= 200


# -- lexical search ---------------------------------------------------------------------------

@pytest.mark.parametrize("query, url", [
    ("পণ্য", "bn/returns/start-a-return/"),
    ("ফেরতের", "bn/returns/start-a-return/"),  # an inflected form finds the plain word
    ("સ્થિતિ", "gu/orders/track/"),
    ("वापस", "hi/returns/start/"),
])
def test_a_word_from_the_middle_of_an_indic_title_finds_its_page(searcher: Searcher, query: str, url: str) -> None:
    hits = searcher.search(query, mode="lexical")
    assert hits and hits[0].url == url


def test_typos_are_corrected_against_the_index_vocabulary(searcher: Searcher) -> None:
    hits = searcher.search("descal kettel", mode="lexical")
    assert hits and hits[0].url.startswith(("products/kettle-k1/", "videos/descale-kettle/"))


def test_a_correction_between_equally_common_words_is_the_same_in_every_process(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    # "carx" is one letter from "card" and from "cart", each on one page: a tie the string-hash
    # seed (random per process) used to break, so the same query was corrected differently
    # from one server start to the next. Of "bqxt" and "kqxz", both one letter from "kqxt",
    # the correction keeps its first letter: a typo there is the rarest.
    pages = [page("a/", "Card", "<p>Pay by card.</p>"), page("b/", "Cart", "<p>Your cart.</p>"),
             page("c/", "Codes", "<p>Codes bqxt and kqxz.</p>")]
    build_lexical_index(pages, [], tmp_path / "idx")
    code = ("import sys; from kb_tools.search import Searcher; s = Searcher(sys.argv[1]).lexical; "
            "print(s.build_query('carx order', 'en').corrected, '|', s.build_query('kqxt', 'en').corrected)")
    got = {subprocess.run([sys.executable, "-c", code, str(tmp_path / "idx")], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout.strip() for seed in range(6)}
    assert got == {"card order | kqxz"}


def test_a_real_english_word_is_not_corrected_into_another(tmp_path: Path) -> None:
    pages = [page("contact/", "Contact us", "<p>Tell us about your phone order. We can swap the gift box.</p>")]
    build_lexical_index(pages, [], tmp_path / "idx")
    lexical = Searcher(tmp_path / "idx").lexical
    assert lexical.build_query("do you sell gift wrap", "en").corrected == "do you sell gift wrap"  # not tell, swap
    assert lexical.build_query("swpa the gfit box", "en").corrected == "swap the gift box"  # typos still are


@pytest.mark.parametrize("query", ['title:kettle', '"kettle"', "kettle*", "kettle?", "(kettle)", "kettle AND", "NOT kettle"])
def test_query_syntax_is_plain_text(searcher: Searcher, query: str) -> None:
    hits = searcher.search(query, mode="lexical")
    urls = [h.url.split("#")[0] for h in hits]
    assert urls[0] in ("products/kettle-k1/", "videos/descale-kettle/")
    assert "shipping/delivery-times/" not in urls  # "NOT"/"*" did not become operators


def test_a_lone_wildcard_matches_nothing(searcher: Searcher) -> None:
    assert list(searcher.search("*", mode="lexical")) == []
    assert list(searcher.search("? : ( ) [ ] { } \" ' ~ ^", mode="lexical")) == []


@pytest.mark.parametrize("query", [
    "!!!", "😀😀", "kettle " * 70, "ফেরত kettle ઓર્ડર", "\x00\x01 kettle", "a" * 512,
    "<script>", "%s %d {0}", "‮reversed", "\u200c\u200d",
])
@pytest.mark.parametrize("mode", ["lexical", "hybrid", "semantic"])
def test_odd_input_within_the_limits_never_raises(searcher: Searcher, query: str, mode: str) -> None:
    hits = searcher.search(query, mode=mode)
    assert isinstance(hits, SearchResults) and len(hits) <= 10
    assert all(isinstance(h, Hit) for h in hits)
    if query in ("!!!", "😀😀", "\u200c\u200d"):
        assert not hits


@pytest.mark.parametrize(("text", "options", "code", "says"), [
    ("", {}, "missing_query", "The query is empty"),
    (" \n\t ", {}, "missing_query", "The query is empty"),
    ("a" * 513, {}, "query_too_long", "513 characters long; the limit is 512"),
    ("kettle " * 2000, {}, "query_too_long", "the limit is 512"),
    ("kettle", {"mode": "nonsense"}, "invalid_parameter", "mode must be one of hybrid, lexical, semantic"),
    ("kettle", {"k": 0}, "invalid_parameter", "k must be a whole number from 1 to 50"),
    ("kettle", {"k": 51}, "invalid_parameter", "from 1 to 50"),
    ("kettle", {"lang": "<script>"}, "invalid_parameter", "lang must be a language code"),
    ("kettle", {"category": "../etc"}, "invalid_parameter", "category must be a slug"),
    ("kettle", {"product": "x" * 81}, "invalid_parameter", "product must be a slug"),
    ("kettle", {"context": "product:" + "x" * 300}, "invalid_parameter", "longer than 200 characters"),
    (["kettle"], {}, "invalid_parameter", "must be text"),
])
def test_a_query_outside_the_limits_is_one_clear_error(searcher: Searcher, text: object, options: dict,
                                                      code: str, says: str) -> None:
    with pytest.raises(QueryError, match=re.escape(says)) as err:
        SearchQuery.parse(text, **options)
    assert err.value.code == code
    assert "<script>" not in str(err.value) and "../" not in str(err.value)  # never echoes input
    with pytest.raises(QueryError):  # the Searcher's convenience form checks the same limits
        searcher.search(text, **options)  # type: ignore[arg-type]


def test_search_query_is_built_once_with_its_context_parsed() -> None:
    q = SearchQuery.parse("  where   is\tmy order ", k=5, lang="bn", mode="lexical", category="",
                          context="product:blender-x2, lang:bn ,colour:red,category:")
    assert q == SearchQuery("where is my order", k=5, lang="bn", mode="lexical",
                            context=Context(product="blender-x2", lang="bn"))
    assert q.filters == {"lang": "bn"}
    assert SearchQuery.parse("refund", product="kettle-k1").filters == {"products": "kettle-k1"}
    assert SearchQuery.parse("x" * 600, max_chars=1000).text == "x" * 600  # kb serve's own limit
    assert Context.parse(None) == Context() == Context.parse("nonsense")


def test_an_unknown_language_is_an_error_that_lists_the_index_languages(searcher: Searcher) -> None:
    with pytest.raises(QueryError, match=r"No pages in language 'fr'. Available: bn, en, gu, hi\.") as err:
        searcher.search("return", lang="fr")
    assert err.value.code == "unknown_language"
    assert searcher.languages == ["bn", "en", "gu", "hi"]


def test_results_are_a_sequence_of_hits_with_the_mode_that_ran(searcher: Searcher) -> None:
    results = searcher.search(SearchQuery.parse("kettle vinegar", k=3))
    assert isinstance(results, Sequence) and 0 < len(results) <= 3
    assert results[0] is list(results)[0] and results[:1] == results.hits[:1]
    assert results.mode == "lexical"  # this index has no vectors: hybrid ran as lexical
    assert results.to_dict() == {"hits": [h.to_dict() for h in results], "answered": results.answered,
                                 "query_lang": "en", "mode": "lexical"}
    with pytest.raises(TypeError):
        searcher.search(SearchQuery.parse("kettle"), k=3)


def test_snippets_are_escaped_then_marked(searcher: Searcher) -> None:
    hits = searcher.search("<img src=x onerror=alert(1)> kettle app", mode="lexical")
    hit = next(h for h in hits if h.url == "products/kettle-k1/#security")
    assert "<img" not in hit.snippet
    assert "&lt;<mark>img</mark> <mark>src</mark>=<mark>x</mark>" in hit.snippet
    assert "<mark>onerror</mark>" in hit.snippet and "<mark>kettle</mark>" in hit.snippet


def _plain_snippet(text: str, match_terms: set[str], prefixes: set[str], width: int = 200) -> str:
    """The snippet as first written (every word a ``Word``, every window counted by a scan):
    what ``ranking.snippet`` must still return, now that it keeps chunks' words compactly."""
    import html

    from kb_tools.search.analyzer import normalize_text

    if not text:
        return ""
    ws, text = words(text), normalize_text(text)
    hits = [w for w in ws if w.term in match_terms or (prefixes and w.term.startswith(tuple(prefixes)))]
    start = 0
    if hits:
        best_i, best_n = 0, -1
        for i, h in enumerate(hits):
            n = sum(1 for o in hits[i:] if o.end - h.start <= width)
            if n > best_n:
                best_i, best_n = i, n
        start = max(0, hits[best_i].start - 40)
    end = min(len(text), start + width)
    if start > 0:
        sp = text.rfind(" ", 0, start)
        start = sp + 1 if sp != -1 else 0
    if end < len(text):
        sp = text.find(" ", end)
        end = sp if sp != -1 and sp - end < 30 else end
    out, pos = ["…" if start > 0 else ""], start
    for h in hits:
        if h.start < start or h.end > end:
            continue
        out += [html.escape(text[pos : h.start]), "<mark>" + html.escape(text[h.start : h.end]) + "</mark>"]
        pos = h.end
    out.append(html.escape(text[pos:end]))
    return "".join(out) + ("…" if end < len(text) else "")


def test_snippets_of_the_labelled_queries_on_the_sample_pages_match_the_plain_scan() -> None:
    import yaml

    from kb_tools.search.ranking import snippet

    root = Path(__file__).resolve().parent.parent
    texts = [block for f in sorted((root / "docs").rglob("*.md"))
             for block in f.read_text(encoding="utf-8").split("\n\n") if len(block) > 80]
    texts += ["<b>x</b> " * 60 + "kettle", "refund " * 120]  # markup to escape; a hit in every window
    queries = [d["q"] for d in yaml.safe_load((root / "bench" / "queries.yaml").read_text(encoding="utf-8"))
               if isinstance(d, dict) and d.get("q")]
    assert len(texts) > 300 and len(queries) > 300
    by_term: dict[str, list[int]] = {}
    for i, t in enumerate(texts):
        for term in terms(t):
            by_term.setdefault(term, []).append(i)
    compared = marked = 0
    for n, q in enumerate(queries):
        qterms = set(terms(q))
        prefixes = {t for t in qterms if detect_script(t) and len(t) >= 3} if n % 2 else set()
        chosen = {i for t in qterms for i in by_term.get(t, [])[:3]} | {n % len(texts)}
        for i in sorted(chosen):
            got = snippet(texts[i], qterms, prefixes)
            assert got == _plain_snippet(texts[i], qterms, prefixes), (q, texts[i][:80])
            compared += 1
            marked += "<mark>" in got
    assert compared > 1000 and marked > 500


def test_a_text_is_cut_into_the_same_words_whatever_its_letters() -> None:
    # English text takes a faster path (its letters and digits are all ASCII); every other
    # text -- an accented letter, a mark, a joiner, a digit of another script anywhere in it --
    # the general rule. Both must cut any text into the same words at the same offsets.
    import unicodedata

    from kb_tools.search.analyzer import WORD_RE, normalize_word, spans
    from kb_tools.search.lexical import ENGLISH_STOP_WORDS

    def general(text: str, stopwords: bool) -> list[tuple[str, int, int]]:
        text = unicodedata.normalize("NFC", text)
        out = []
        for m in WORD_RE.finditer(text):
            raw = m.group(0).strip("\u200c\u200d")
            if raw and not (stopwords and raw.isascii() and raw.lower() in ENGLISH_STOP_WORDS):
                out.append((normalize_word(raw), m.start(), m.end()))
        return out

    root = Path(__file__).resolve().parent.parent
    texts = [block for f in sorted((root / "docs").rglob("*.md")) for block in f.read_text(encoding="utf-8").split("\n\n")]
    texts += ["Refunds — in 5–7 days → ₹500, x_y, don't, e-mail 🙏", "café naïve", "ﬁle ① ² ª １２ x", "a\u0301b",
              "ok\u200dok", "ok\ufe0f", "র‍্যাক ok", "The Blender X2 · 10:30 – “quoted” …", "", "—", "_a_", "A1b2 C3"]
    assert len(texts) > 500
    for text in texts:
        for stop in (True, False):
            assert spans(text, stopwords=stop) == general(text, stop), text[:60]


def test_warm_up_freezes_the_index_and_the_next_one_collects_the_last(index_dir: Path) -> None:
    import gc
    import weakref

    old = Searcher(index_dir)
    old.warm_up()
    chunk = weakref.ref(old.chunks[0])
    # Frozen: full collections no longer walk the index's objects.
    assert gc.get_freeze_count() > 0 and not any(o is chunk() for o in gc.get_objects())
    old.close()
    old.cycle = old  # a cycle: only the collector frees it (and its chunks)
    del old
    new = Searcher(index_dir)
    new.warm_up()  # a rebuilt index swapped in: the one it replaces is collected
    assert chunk() is None
    assert new.search("kettle", mode="lexical")
    new.close()


def test_video_cue_hits_carry_their_start_time(searcher: Searcher) -> None:
    hits = searcher.search("lemon juice filter", mode="lexical")
    video = next(h for h in hits if h.kind == "video")
    assert video.url == "videos/descale-kettle/#t=20" and video.start == 20.0
    assert video.section == "Filter" and video.title == "Descaling a kettle"
    assert "<mark>lemon</mark>" in video.snippet
    assert all(h.start is None for h in hits if h.kind == "article")


def test_filters_by_language_category_and_product(searcher: Searcher) -> None:
    assert {h.lang for h in searcher.search("ফেরত return", lang="bn", mode="lexical")} == {"bn"}
    by_cat = searcher.search("return", category="products", mode="lexical")
    assert by_cat and {h.url.split("#")[0] for h in by_cat} == {"products/blender-x2/"}
    by_product = searcher.search("box", product="blender-x2", mode="lexical")
    assert by_product and all(h.url.startswith("returns/start-a-return/") for h in by_product)
    assert not searcher.search("box", product="no-such-product", mode="lexical")


def test_the_product_context_breaks_ties_between_answers_but_never_outranks_the_question(searcher: Searcher) -> None:
    # "how do i rinse it": the kettle's and the blender's pages both say how; the page the
    # shopper searches from decides which comes first.
    def first(query: str, context: str | None = None) -> str:
        return searcher.search(query, mode="lexical", context=context)[0].url.split("#")[0]

    assert first("how do i rinse it", "product:blender-x2") == "products/blender-x2/"
    assert first("how do i rinse it", "product:kettle-k1") == "products/kettle-k1/"
    # "water": the kettle page (hard water, boiling) answers it far better than the blender's
    # rinsing tip, so the blender's page does not put its own page first.
    assert first("water") == first("water", "product:blender-x2") == "products/kettle-k1/"


def test_an_english_word_counts_once_however_many_fields_repeat_it(tmp_path: Path) -> None:
    """A florist's "flowers" fills the care page's title, headings and paragraphs; the question
    is about the city, which only the delivery-area section names, beside "flowers" once.
    Summed over the fields, the product word outweighed it (lexical.BEST_FIELD_LANGS)."""
    care = ("<p>Fresh flowers last longer in cool water.</p>"
            "<h2 id='photo'>When flowers differ from the photo</h2><p>Seasonal flowers may replace the ones shown.</p>"
            "<h2 id='vase'>Flowers in a vase</h2><p>Trim the flowers every second day.</p>")
    pages = [page("flowers/care/", "Flower care", care),
             page("delivery/where/", "Where we deliver",
                  "<p>We deliver flowers and cakes inside Dhaka.</p><h2 id='not'>Where we do not deliver</h2>"
                  "<p>We cannot send flowers to other cities (Sylhet, Khulna, Rajshahi) by courier.</p>"),
             page("cakes/designer/", "Designer cakes", "<p>Order a designer cake two days ahead.</p>"),
             page("payments/methods/", "Payment methods", "<p>Pay by card, bKash or cash on delivery.</p>"),
             page("returns/refunds/", "Refunds", "<p>Refunds reach your card in 7 working days.</p>")]
    build_lexical_index(pages, [], tmp_path / "idx")
    s = Searcher(tmp_path / "idx")
    assert s.search("can you send flowers to sylhet", mode="lexical")[0].url == "delivery/where/#not"
    assert s.search("flowers differ from the photo", mode="lexical")[0].url == "flowers/care/#photo"


def test_at_most_two_sections_per_page(tmp_path: Path) -> None:
    sections = "".join(f"<h2 id='s{i}'>Warranty part {i}</h2><p>warranty warranty claim {i}</p>" for i in range(8))
    pages = [page("w/", "Warranty", sections), page("x/", "Other", "<p>warranty card</p>")]
    build_lexical_index(pages, [], tmp_path / "idx")
    hits = Searcher(tmp_path / "idx").search("warranty", mode="lexical")
    assert [h.url.split("#")[0] for h in hits].count("w/") == 2
    assert "x/" in [h.url for h in hits]


def test_hit_to_dict_is_json_ready(searcher: Searcher) -> None:
    d = searcher.search("kettle", mode="lexical")[0].to_dict()
    assert set(d) == {"url", "title", "section", "snippet", "score", "lang", "kind", "start", "confidence"}
    assert 0.0 <= d["confidence"] <= 1.0
    json.dumps(d)


# -- index life cycle -------------------------------------------------------------------------

def test_missing_index_says_how_to_rebuild(tmp_path: Path) -> None:
    with pytest.raises(SearchIndexError, match=r"no search index in .*run `mkdocs build`"):
        Searcher(tmp_path / "nowhere")


def test_old_schema_says_how_to_rebuild(tmp_path: Path) -> None:
    build_lexical_index(sample_pages()[:1], [], tmp_path / "idx")
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    (tmp_path / "idx" / "manifest.json").write_text(json.dumps({**manifest, "schema": 0}))
    with pytest.raises(SearchIndexError) as e:
        Searcher(tmp_path / "idx")
    assert "schema 0" in str(e.value) and "run `mkdocs build`" in str(e.value)
    assert "\n" not in str(e.value)


def test_a_failed_build_keeps_the_previous_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "search_index"
    out.mkdir()
    (out / "README.md").write_text("kept")
    build_lexical_index(sample_pages(), [], out)
    assert (out / "README.md").read_text() == "kept"

    from kb_tools.search import lexical

    def broken(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(lexical, "write_index", broken)
    with pytest.raises(OSError):
        build_lexical_index([page("new/", "Brand new page", "<p>zebra</p>")], [], out)
    hits = Searcher(out).search("kettle", mode="lexical")
    assert hits and hits[0].url.startswith("products/kettle-k1/")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["search_index"]  # no temp leftovers


# -- kb search --------------------------------------------------------------------------------

def test_cli_prints_rank_title_section_url_and_plain_snippet(index_dir: Path) -> None:
    result = CliRunner().invoke(search_cmd, ["lemon juice", "--index", str(index_dir), "--mode", "lexical", "--k", "3"])
    assert result.exit_code == 0, result.output
    assert " 1. Descaling a kettle › Filter\n    videos/descale-kettle/#t=20\n" in result.output
    assert "<mark>" not in result.output and "lemon juice" in result.output


def test_cli_json_and_queries_file(index_dir: Path, tmp_path: Path) -> None:
    qfile = tmp_path / "q.txt"
    qfile.write_text("kettle\nদিনের\n")
    result = CliRunner().invoke(search_cmd, ["--queries", str(qfile), "--index", str(index_dir), "--json", "--mode", "lexical"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [d["query"] for d in lines] == ["kettle", "দিনের"]
    assert lines[1]["hits"][0]["url"] == "bn/returns/start-a-return/"


def test_cli_missing_index_exits_non_zero_with_the_fix(tmp_path: Path) -> None:
    result = CliRunner().invoke(search_cmd, ["kettle", "--index", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "run `mkdocs build`" in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["kettle", "--mode", "fuzzy"], "Error: mode must be one of hybrid, lexical, semantic.\n"),
    (["kettle", "--k", "500"], "Error: k must be a whole number from 1 to 50.\n"),
    (["kettle", "--lang", "fr"], "Error: No pages in language 'fr'. Available: bn, en, gu, hi.\n"),
    (["   "], "Error: The query is empty: type what you are looking for.\n"),
])
def test_cli_reports_a_query_outside_the_limits_as_one_error(index_dir: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(search_cmd, [*args, "--index", str(index_dir)])
    assert result.exit_code == 1
    assert result.output == message


def test_cli_names_the_bad_query_in_a_file_before_searching(index_dir: Path, tmp_path: Path) -> None:
    qfile = tmp_path / "q.txt"
    qfile.write_text("kettle\n" + "x" * 600 + "\n")
    result = CliRunner().invoke(search_cmd, ["--queries", str(qfile), "--index", str(index_dir), "--json"])
    assert result.exit_code == 1
    assert result.output == f"Error: {qfile}: query 2: The query is 600 characters long; the limit is 512.\n"


@pytest.mark.parametrize("query", ["kettle vinegar", "return the item box", "পণ্য ফেরত", "delivery Dhaka"])
def test_fast_scorer_agrees_with_whoosh(searcher: Searcher, query: str) -> None:
    lq = searcher.lexical.build_query(query)
    ours = searcher.lexical.search(lq.query, coord=0.0)
    with searcher.lexical.ix.searcher(weighting=BM25F()) as whoosh_searcher:
        theirs = [(hit["cid"], hit.score) for hit in whoosh_searcher.search(lq.query, limit=50)]
    assert ours and {c for c, _ in ours} == {c for c, _ in theirs}
    assert ours[0][0] == theirs[0][0]


@pytest.mark.parametrize("query", ["kettle vinegar", "return the item box", "delivery Dhaka", "blender blades"])
def test_best_field_scores_on_postings_equal_the_whole_array_ones(searcher: Searcher, query: str) -> None:
    """An English word's fields are scored on the chunks its postings name (LexicalIndex._best_field);
    the same query with each field wrapped, scored on whole arrays, gives the very same floats."""
    from whoosh import query as wq

    from kb_tools.search.lexical import best_field

    q = best_field(searcher.lexical.build_query(query).query)

    def wrapped(node: wq.Query) -> wq.Query:
        if isinstance(node, wq.DisjunctionMax):
            return wq.DisjunctionMax([wq.Or([t]) for t in node.subqueries], boost=node.boost, tiebreak=node.tiebreak)
        return node.apply(wrapped) if isinstance(node, wq.compound.CompoundQuery) else node

    assert "DisMax" in str(q) and "DisMax" in str(wrapped(q))
    ours = searcher.lexical.search(q)
    assert ours and ours == searcher.lexical.search(wrapped(q))


def test_posting_lists_match_whooshs_own_matcher(tmp_path: Path) -> None:
    """Every posting list of a real index, read by our adapter, equals what whoosh's public
    matcher yields: terms in one chunk (stored inline), and in 300 chunks (three blocks)."""
    pages = [page(f"p{i}/", f"Refund {i}", f"<p>refund money {'returns ' * (i % 4)}item{i}</p>"
                  + ("<h2 id='x'>Delivery</h2><p>courier delivery</p>" if i % 3 == 0 else ""))
             for i in range(300)]
    build_lexical_index(pages, [], tmp_path / "idx")
    lexical = Searcher(tmp_path / "idx").lexical
    postings = PostingLists(lexical.ix)
    reader = lexical.ix.reader()
    seen_blocks = seen_inline = 0
    for field, raw in reader.all_terms():
        if field not in TEXT_FIELDS:
            continue
        term = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        expected = list(reader.postings(field, term).items_as("weight"))
        ids, tfs = postings.read(field, term)
        assert list(zip(ids.tolist(), tfs.tolist(), strict=True)) == expected, (field, term)
        seen_blocks += len(expected) > 128
        seen_inline += len(expected) == 1
    assert seen_blocks and seen_inline  # both of the adapter's paths were compared
    assert postings.read("body", "no-such-term")[0].size == 0
    assert postings.expand_prefix("body", "item2", limit=3) == ["item2", "item20", "item200"]
    reader.close()
    postings.close()


def test_cli_reads_a_labelled_yaml_query_file(index_dir: Path, tmp_path: Path) -> None:
    qfile = tmp_path / "queries.yaml"
    qfile.write_text('- {q: "lemon juice", lang: en, expect: ["videos/descale-kettle/"]}\n- {q: "সাত", lang: bn}\n')
    result = CliRunner().invoke(search_cmd, ["--queries", str(qfile), "--index", str(index_dir), "--json", "--k", "1"])
    assert result.exit_code == 0, result.output
    first = json.loads(result.output.splitlines()[0])
    assert first["query"] == "lemon juice" and first["hits"][0]["url"] == "videos/descale-kettle/#t=20"


def test_importing_the_api_and_lexical_search_never_import_torch(index_dir: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys\nfrom kb_tools.search import Searcher, Hit, build_index\n"
        f"hits = Searcher({str(index_dir)!r}).search('kettle', mode='lexical')\n"
        "print(len(hits), 'torch' in sys.modules, 'sentence_transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[1:] == ["False", "False"] and int(out.stdout.split()[0]) > 0


def test_shopper_words_find_the_articles_words(tmp_path: Path) -> None:
    pages = [page("refunds/status/", "Refund status", "<p>Your refund reaches the card in 7 days.</p>"),
             page("prices/", "Prices", "<p>The blender costs 299 taka.</p>")]
    build_lexical_index(pages, [], tmp_path / "idx")
    hits = Searcher(tmp_path / "idx").search("I expect a reimbursement of 299", mode="lexical")
    assert hits[0].url == "refunds/status/"  # the synonym outweighs a matching price
    assert "<mark>refund</mark>" in hits[0].snippet


def test_a_model_failure_keeps_the_previous_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kb_tools.search import build_index, embeddings

    out = tmp_path / "search_index"
    build_lexical_index(sample_pages(), [], out)
    before = (out / "manifest.json").read_text()

    def no_model(folder: Path) -> None:
        raise SearchIndexError(f"cannot load the search model from {folder}")

    monkeypatch.setattr(embeddings, "get_encoder", no_model)
    with pytest.raises(SearchIndexError, match="cannot load the search model"):
        build_index(sample_pages(), [], out, model="all-MiniLM-L6-v2", cache_dir=tmp_path / "cache", progress=False)
    assert (out / "manifest.json").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "search_index"]
