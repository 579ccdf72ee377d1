"""A small help center for `kb serve` tests: six pages in three languages and one video with
chapters, indexed with the real model, and a static site with a Material-like asset bundle."""

from __future__ import annotations

from pathlib import Path

from kb_tools.records import Chapter, Cue, PageRecord, VideoRecord
from kb_tools.search import build_index
from kb_tools.service.settings import ServiceSettings

MODEL = "all-MiniLM-L6-v2"


def page(url: str, title: str, body: str, lang: str = "en", **kw) -> PageRecord:
    return PageRecord(url=url, title=title, html=body, lang=lang, **kw)


PAGES = [
    page("returns/policy/", "Return policy",
         "<h2 id='window'>Return window</h2><p>You can return any item within 7 days of delivery "
         "for a full refund, if it is unused and in its box.</p>", category="returns"),
    page("shipping/times/", "Delivery times",
         "<h2 id='dhaka'>Inside Dhaka</h2><p>Orders inside Dhaka arrive in 2 to 4 days by courier.</p>",
         category="shipping"),
    page("products/blender-x2/", "Blender X2 guide",
         "<h2 id='clean'>Cleaning the jar</h2><p>Rinse the glass jar of the Blender X2 with warm water "
         "and a drop of soap after every use.</p>", category="products", products=("blender-x2",)),
    page("bn/returns/policy/", "ফেরত নীতি",
         "<p>ডেলিভারির ৭ দিনের মধ্যে অব্যবহৃত পণ্য ফেরত দিতে পারবেন।</p>", lang="bn", category="returns"),
    page("reviews/rules/", "Review rules",
         "<p>Spam bots post &lt;img src=x onerror=alert(1)&gt; in product reviews; moderators "
         "remove such reviews.</p>", category="account"),
    page("gu/returns/policy/", "પરત નીતિ",
         "<p>ડિલિવરીના ૭ દિવસની અંદર ન વપરાયેલી વસ્તુ પરત કરી શકો છો.</p>", lang="gu", category="returns"),
]
VIDEOS = [
    VideoRecord(id="start-a-return", url="videos/start-a-return/", title="How to start a return",
                lang="en", category="returns", duration=120.0,
                chapters=(Chapter(0, "Find your order"), Chapter(83, "Label the parcel")),
                cues=(Cue(0, 6, "Open the orders page in your account."),
                      Cue(83, 90, "Print the courier label and stick it on the parcel."))),
]


def build(pages: list[PageRecord], out: Path, cache: Path) -> None:
    build_index(pages, VIDEOS, out, model=MODEL, cache_dir=cache, progress=False)


def make_site(root: Path) -> Path:
    site = root / "site"
    (site / "returns/policy").mkdir(parents=True)
    (site / "assets/javascripts").mkdir(parents=True)
    (site / "index.html").write_text("<!doctype html><title>Help</title>" + "<p>Welcome to Nodi help.</p>" * 80)
    (site / "returns/policy/index.html").write_text("<!doctype html><h1>Return policy</h1>" + "<p>7 days.</p>" * 80)
    (site / "404.html").write_text("<!doctype html><h1>Page not found</h1>")
    (site / "assets/javascripts/bundle.f55a23d4.min.js").write_text("console.log('material');" * 100)
    (site / "assets/javascripts/plain.js").write_text("console.log('plain');" * 100)
    return site


def settings_for(index: Path, site: Path, **kw) -> ServiceSettings:
    kw.setdefault("database_url", f"sqlite:///{site.parent / 'analytics.db'}")
    return ServiceSettings(index_dir=index, site_dir=site, **kw)
