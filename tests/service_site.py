"""A small help center for `kb serve` tests: six pages in three languages and one video with
chapters, indexed with the real model, and a static site with a Material-like asset bundle
whose pages are the same articles (and the video's page) as MkDocs would have built them."""

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


ARTICLE = ('<!doctype html><html lang="{lang}"><title>{title}</title><body><article class="md-content__inner '
           'md-typeset"><h1 id="top">{title}<a class="headerlink" href="#top">&para;</a></h1>{html}{more}'
           '<div class="kb-feedback" data-url="{url}"></div></article></body></html>')


def video_page(video: VideoRecord) -> str:
    """The video's page as kb's video pages are built: player, chapters, transcript."""
    chapters = "".join(f'<li><a href="#t={c.start:g}" data-kb-seek="{c.start:g}">{c.title}</a></li>'
                       for c in video.chapters)
    cues = "".join(f'<li data-start="{c.start:.3f}"><a href="#t={c.start:g}">{c.start:g}</a> '
                   f'<span class="kb-video__cue-text">{c.text}</span></li>' for c in video.cues)
    html = ('<div class="kb-video"><video controls preload="metadata" poster="poster.jpg">'
            '<source src="video.mp4" type="video/mp4"><track kind="captions" srclang="en" label="English" '
            'src="captions.en.vtt" default></video></div><p>Start a return from My Orders.</p>'
            f'<h2 id="chapters">Chapters</h2><nav class="kb-video__chapters"><ol>{chapters}</ol></nav>'
            f'<h2 id="transcript">Transcript</h2><div data-kb-transcript="en"><ol>{cues}</ol></div>')
    return ARTICLE.format(lang=video.lang, title=video.title, html=html, more="", url=video.url)


def make_site(root: Path) -> Path:
    site = root / "site"
    (site / "assets/javascripts").mkdir(parents=True)
    (site / "index.html").write_text("<!doctype html><title>Help</title>" + "<p>Welcome to Nodi help.</p>" * 80)
    for p in PAGES:
        (site / p.url).mkdir(parents=True, exist_ok=True)
        more = "<p>7 days.</p>" * 80 if p.url == "returns/policy/" else ""
        (site / p.url / "index.html").write_text(
            ARTICLE.format(lang=p.lang, title=p.title, html=p.html, more=more, url=p.url), encoding="utf-8")
    for v in VIDEOS:
        (site / v.url).mkdir(parents=True)
        (site / v.url / "index.html").write_text(video_page(v), encoding="utf-8")
    (site / "404.html").write_text("<!doctype html><h1>Page not found</h1>")
    (site / "assets/javascripts/bundle.f55a23d4.min.js").write_text("console.log('material');" * 100)
    (site / "assets/javascripts/plain.js").write_text("console.log('plain');" * 100)
    return site


def settings_for(index: Path, site: Path, **kw) -> ServiceSettings:
    kw.setdefault("database_url", f"sqlite:///{site.parent / 'analytics.db'}")
    return ServiceSettings(index_dir=index, site_dir=site, **kw)
