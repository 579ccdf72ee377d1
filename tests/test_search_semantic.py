"""The search engine with the packaged embedding model: one small index per session, the
embedding cache across rebuilds, and hybrid ranking."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import asdict
from pathlib import Path

import pytest

from kb_tools.records import PageRecord
from kb_tools.search import Searcher, SearchResults, build_index
from kb_tools.search.build import SCHEMA_VERSION
from kb_tools.search.chunking import chunk_page

MODEL = "all-MiniLM-L6-v2"


def pages() -> list[PageRecord]:
    def p(url: str, title: str, html: str, lang: str = "en", **kw: object) -> PageRecord:
        return PageRecord(url=url, title=title, html=html, lang=lang, **kw)  # type: ignore[arg-type]

    return [
        p("refunds/refund-timing/", "When refunds arrive",
          "<p>Card refunds reach your bank account 5 to 7 working days after we receive the item.</p>"
          "<h2 id='bkash'>bKash and Nagad</h2><p>Mobile wallet refunds take one working day.</p>",
          category="refunds"),
        p("orders/track-your-order/", "Track your order",
          "<p>Open My orders and press Track to see where the parcel is.</p>"
          "<h2 id='courier'>Courier updates</h2><p>The courier sends an SMS with a tracking link.</p>",
          category="orders"),
        p("account/reset-password/", "Reset your password",
          "<p>Choose Forgot password on the sign-in page and follow the e-mailed link.</p>",
          category="account"),
        p("products/rice-cooker-rc18/", "Rice Cooker RC18 guide",
          "<p>Rinse the rice, add water up to the line and press Cook.</p>",
          category="products", products=("rice-cooker-rc18",)),
        p("bn/refunds/refund-timing/", "রিফান্ড কখন পাবেন",
          "<p>কার্ডে রিফান্ড ৫ থেকে ৭ কার্যদিবসের মধ্যে আপনার ব্যাংকে পৌঁছায়।</p>",
          lang="bn", category="refunds"),
        p("gu/orders/track-your-order/", "તમારો ઓર્ડર ટ્રેક કરો",
          "<p>મારા ઓર્ડર ખોલો અને પાર્સલ ક્યાં છે તે જોવા માટે ટ્રેક દબાવો.</p>",
          lang="gu", category="orders"),
    ]


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    root = tmp_path_factory.mktemp("semantic")
    manifest = build_index(pages(), [], root / "search_index", model=MODEL,
                           cache_dir=root / "cache", progress=False)
    return root / "search_index", root / "cache", manifest


@pytest.fixture(scope="session")
def searcher(built: tuple[Path, Path, dict]) -> Searcher:
    s = Searcher(built[0])
    s.warm_up()
    return s


def test_manifest_records_model_dimension_and_counts(built: tuple[Path, Path, dict]) -> None:
    index_dir, _, manifest = built
    on_disk = json.loads((index_dir / "manifest.json").read_text())
    assert on_disk["schema"] == SCHEMA_VERSION and on_disk["model"] == MODEL and on_disk["dimension"] == 384
    n = sum(len(chunk_page(p)) for p in pages())
    assert on_disk["chunks"] == n == manifest["embedded"]
    assert on_disk["counts"]["lang"] == {"en": n - 2, "bn": 1, "gu": 1}
    assert on_disk["counts"]["kind"] == {"article": n}
    assert on_disk["built_at"] and on_disk["build_seconds"] > 0


def test_semantic_mode_finds_a_page_without_shared_words(searcher: Searcher) -> None:
    # No word of the query is on the page: only the embedding can find it.
    hits = searcher.search("when will I get my money back", mode="semantic")
    assert hits[0].url.startswith("refunds/refund-timing/")
    assert searcher.search("when will I get my money back", mode="lexical")[:1] != hits[:1]


@pytest.mark.parametrize("query, page", [
    ("when will I get my money back", "refunds/refund-timing/"),
    ("where is my parcel", "orders/track-your-order/"),
    ("forgot password", "account/reset-password/"),
    ("bkash refund", "refunds/refund-timing/"),
])
def test_hybrid_puts_the_answer_first(searcher: Searcher, query: str, page: str) -> None:
    assert searcher.search(query)[0].url.startswith(page)


def test_indic_queries_prefer_their_language_and_still_reach_english(searcher: Searcher) -> None:
    bn = searcher.search("রিফান্ড কবে পাবো")
    assert bn[0].url == "bn/refunds/refund-timing/"
    gu = searcher.search("ઓર્ડર ટ્રેક")
    assert gu[0].url == "gu/orders/track-your-order/"
    assert any(h.lang == "en" for h in gu)


def test_semantic_filters_and_context(searcher: Searcher) -> None:
    assert {h.lang for h in searcher.search("refund", lang="bn")} == {"bn"}
    assert {h.url for h in searcher.search("how do I cook", product="rice-cooker-rc18", mode="semantic")} == {
        "products/rice-cooker-rc18/"}
    boosted = searcher.search("rinse", context="product:rice-cooker-rc18")
    assert boosted[0].url == "products/rice-cooker-rc18/"


def test_semantic_odd_input_never_raises(searcher: Searcher) -> None:
    for q in ["?", "😀", "x" * 512, "AND OR NOT", "<b>", "ফেরত refund ઓર્ડર"]:
        for mode in ("semantic", "hybrid"):
            assert isinstance(searcher.search(q, mode=mode), SearchResults)


def _build_script(tmp: Path, records: list[PageRecord], out: Path, cache: Path) -> Path:
    data = tmp / "pages.json"
    data.write_text(json.dumps([asdict(r) for r in records], ensure_ascii=False))
    script = tmp / "build.py"
    script.write_text(textwrap.dedent(f"""
        import json, sys
        from pathlib import Path
        from kb_tools.records import PageRecord
        from kb_tools.search import build_index
        recs = [PageRecord(**{{**d, "products": tuple(d["products"]), "tags": tuple(d["tags"])}})
                for d in json.loads(Path({str(data)!r}).read_text())]
        m = build_index(recs, [], Path({str(out)!r}), model={MODEL!r}, cache_dir=Path({str(cache)!r}), progress=False)
        print(json.dumps({{"embedded": m["embedded"], "reused": m["reused"],
                           "torch": "torch" in sys.modules,
                           "sentence_transformers": "sentence_transformers" in sys.modules}}))
    """))
    return script


def _run(script: Path) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_rebuild_without_changes_embeds_nothing_and_never_imports_torch(
    built: tuple[Path, Path, dict], tmp_path: Path
) -> None:
    index_dir, cache, _ = built
    before = (index_dir / "manifest.json").read_text()
    result = _run(_build_script(tmp_path, pages(), index_dir, cache))
    assert result == {"embedded": 0, "reused": True, "torch": False, "sentence_transformers": False}
    assert (index_dir / "manifest.json").read_text() == before  # kept, not rewritten


def test_changing_one_page_re_embeds_only_its_chunks(built: tuple[Path, Path, dict], tmp_path: Path) -> None:
    _, cache, _ = built
    records = pages()
    changed = PageRecord(**{**asdict(records[2]), "html": records[2].html + "<h2 id='sms'>By SMS</h2><p>We can also text you a code.</p>"})
    records[2] = changed
    out = tmp_path / "search_index"
    result = build_index(records, [], out, model=MODEL, cache_dir=cache, progress=False)
    # The old intro chunk of the page is unchanged and cached; only the new section is embedded.
    assert result["embedded"] == 1 and result["reused"] is False
    hits = Searcher(out).search("send me a text message with the code", mode="semantic")
    assert hits[0].url == "account/reset-password/#sms"


def test_threads_share_one_searcher(searcher: Searcher) -> None:
    from concurrent.futures import ThreadPoolExecutor

    queries = ["when will I get my money back", "where is my parcel", "forgot pasword", "রিফান্ড", "ઓર્ડર"] * 4
    serial = [[h.url for h in searcher.search(q)] for q in queries]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(lambda q: [h.url for h in searcher.search(q)], queries))
    assert threaded == serial
