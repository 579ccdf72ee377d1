"""The built sample help center, as a shopper's browser and a writer see it."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from kb_tools.config import KbConfig
from kb_tools.content import ContentSettings, ContentSite
from tests.projects import ROOT


class ExternalRefs(HTMLParser):
    """Collects every URL the page would fetch from another host: scripts, styles, fonts,
    images, media, iframes."""

    FETCHING = {
        ("script", "src"),
        ("link", "href"),
        ("img", "src"),
        ("img", "srcset"),
        ("source", "src"),
        ("video", "src"),
        ("video", "poster"),
        ("audio", "src"),
        ("track", "src"),
        ("iframe", "src"),
        ("embed", "src"),
        ("object", "data"),
    }

    def __init__(self) -> None:
        super().__init__()
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "link" and not set((values.get("rel") or "").split()) & {
            "stylesheet", "preload", "prefetch", "icon", "manifest", "modulepreload", "preconnect", "dns-prefetch",
        }:
            return  # plain hyperlinks (rel=alternate, canonical) are not fetched
        for name, value in attrs:
            if (tag, name) in self.FETCHING and value and _is_external(value):
                self.external.append(f"<{tag} {name}={value}>")


def _is_external(url: str) -> bool:
    return bool(re.match(r"^\s*(https?:)?//", url, re.I))


def test_sample_has_enough_articles_in_each_language() -> None:
    site = ContentSite.load(ROOT, ROOT / "docs", ContentSettings(languages=["en", "bn", "gu"]))
    by_lang: dict[str, int] = {}
    for article in site.articles.values():
        if not article.is_index:
            by_lang[article.lang] = by_lang.get(article.lang, 0) + 1
    assert by_lang.get("en", 0) >= 30
    assert by_lang.get("bn", 0) >= 10
    assert by_lang.get("gu", 0) >= 6


def test_built_site_requests_nothing_from_other_hosts(sample_build) -> None:
    offenders: dict[str, list[str]] = {}
    pages = list(sample_build.site_dir.rglob("*.html"))
    assert len(pages) > 40
    for page in pages:
        parser = ExternalRefs()
        parser.feed(page.read_text(encoding="utf-8"))
        if parser.external:
            offenders[str(page.relative_to(sample_build.site_dir))] = parser.external
    for css in sample_build.site_dir.rglob("*.css"):
        for url in re.findall(r"url\(\s*['\"]?([^)'\"]+)", css.read_text(encoding="utf-8")):
            if _is_external(url):
                offenders.setdefault(str(css.relative_to(sample_build.site_dir)), []).append(url)
        for url in re.findall(r"@import\s+['\"]([^'\"]+)", css.read_text(encoding="utf-8")):
            if _is_external(url):
                offenders.setdefault(str(css.relative_to(sample_build.site_dir)), []).append(url)
    assert offenders == {}


def test_home_page_shows_the_top_tasks(sample_build) -> None:
    home = (sample_build.site_dir / "index.html").read_text(encoding="utf-8")
    for task in ("Track my order", "Start a return", "Refund status"):
        assert task in home


def test_articles_have_feedback_and_last_updated(sample_build) -> None:
    page = (sample_build.site_dir / "returns/start-a-return/index.html").read_text(encoding="utf-8")
    assert 'class="kb-feedback"' in page
    assert 'class="md-source-file"' in page
    assert re.search(r"\d{4}-\d{2}-\d{2}", page.split('class="md-source-file"')[1])


def test_policy_numbers_are_substituted_everywhere(sample_build) -> None:
    leftovers = [
        str(p.relative_to(sample_build.site_dir))
        for p in sample_build.site_dir.rglob("*.html")
        if "{{ policy." in p.read_text(encoding="utf-8")
    ]
    assert leftovers == []


def test_bengali_and_gujarati_pages_have_their_language(sample_build) -> None:
    bn = next((sample_build.site_dir / "bn").rglob("index.html")).read_text(encoding="utf-8")
    gu = next((sample_build.site_dir / "gu").rglob("index.html")).read_text(encoding="utf-8")
    assert '<html lang="bn"' in bn
    assert '<html lang="gu"' in gu


def test_every_plugin_option_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name for name, _ in KbConfig._schema if f"`{name}`" not in readme]
    assert missing == []


def test_readme_names_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme


def test_sample_site_builds_with_no_warnings(sample_build) -> None:
    assert "WARNING" not in sample_build.log, sample_build.log[-3000:]

