"""The whole help center's content: every article, the policy facts, and the site-wide checks
(categories, languages, pages at one address, broken links, unknown facts, stale articles).

`ContentSite.load()` is what both `kb check` and the MkDocs plugin call, so the two report the
same problems with the same words.
"""

from __future__ import annotations

import datetime as dt
import posixpath
from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kb_tools.content import schema as schemas
from kb_tools.content.body import BodyChecker
from kb_tools.content.facts import PolicyFacts
from kb_tools.content.frontmatter import Article, did_you_mean, load_article
from kb_tools.content.languages import (
    INDIC_LANGUAGES,
    detect_script_lang,
    known_language_codes,
    path_language,
)
from kb_tools.content.urls import page_url
from kb_tools.problems import Problem, error, shown_path, warning


@dataclass
class ContentSettings:
    """The parts of the plugin's settings that content checks need."""

    languages: list[str] = field(default_factory=lambda: ["en"])
    categories: dict[str, Any] = field(default_factory=dict)
    facts_file: str = "policy.yml"
    use_directory_urls: bool = True  # MkDocs' setting: "a/b.md" is served at "a/b/", else "a/b.html"
    schema: str = "auto"  # which front matter is checked (kb_tools.content.schema)
    today: dt.date | None = None  # for stale checks; None means today
    videos_dir: str = "videos"  # as writers know it (relative to mkdocs.yml), for messages
    heading_slugify: Callable[[str, str], str] | None = None  # the toc extension's slugify; None: its default
    heading_separator: str = "-"
    templating: bool = False  # another plugin (e.g. macros) fills in {{ ... }} and {% ... %}

    @property
    def front_matter_schema(self) -> str:
        return schemas.resolve(self.schema, self.categories)

    @property
    def default_language(self) -> str:
        return self.languages[0] if self.languages else "en"

    @property
    def help_center(self) -> bool:
        """The site is set up as a help center (it names its categories, or asks for the
        help-center or strict schema): links, anchors, images and language folders are kb's to
        check, and a mistake there is an error. On any other MkDocs site MkDocs checks those
        itself, at the levels the site chose."""
        return self.front_matter_schema != "mkdocs"


@dataclass
class ContentSite:
    project_dir: Path
    docs_dir: Path
    settings: ContentSettings
    articles: dict[str, Article] = field(default_factory=dict)  # by src_path
    facts: PolicyFacts = field(default_factory=PolicyFacts)
    problems: list[Problem] = field(default_factory=list)

    @classmethod
    def load(
        cls,
        project_dir: Path,
        docs_dir: Path,
        settings: ContentSettings,
        video_ids: set[str] | None = None,
        broken_videos: set[str] | None = None,
    ) -> ContentSite:
        """Read and check every article. `video_ids`: the videos that exist (None: no videos
        folder); `broken_videos`: sidecars left out because they have errors."""
        site = cls(project_dir=project_dir, docs_dir=docs_dir, settings=settings)
        facts_path = project_dir / settings.facts_file
        site.facts, problems = PolicyFacts.load(facts_path, shown_path(facts_path, project_dir))
        site.problems.extend(problems)
        for path in sorted(docs_dir.rglob("*.md")):
            if any(part.startswith(".") for part in path.relative_to(docs_dir).parts):
                continue
            article, problems = load_article(path, docs_dir, project_dir, settings.front_matter_schema)
            site.problems.extend(problems)
            if article is not None:
                site._settle_language(article)
                site.articles[article.src_path] = article
        body = BodyChecker(site, video_ids, broken_videos or set())
        for article in site.articles.values():
            site.problems.extend(site._check_article(article))
            site.problems.extend(body.check(article))
        if settings.help_center:
            site.problems.extend(site._check_language_folders())
        site.problems.extend(site._check_same_urls())
        # By file and line; problems on one line keep their order in the line.
        site.problems.sort(key=lambda p: (p.path, p.line))
        return site

    # -- languages ---------------------------------------------------------------------------

    def folder_language(self, src_path: str) -> str | None:
        return path_language(src_path, self.settings.languages)

    def page_language(self, src_path: str) -> str:
        """The language of the page built from src_path: its article's (front matter, else
        folder, else script), else its folder's (a generated page), else the default."""
        article = self.articles.get(src_path)
        if article is not None:
            return article.lang
        return self.folder_language(src_path) or self.settings.default_language

    def _settle_language(self, article: Article) -> None:
        if article.lang:
            return
        article.lang = self.folder_language(article.src_path) or (
            detect_script_lang(article.title + " " + article.body, self.settings.default_language)
            if len(self.settings.languages) > 1
            else self.settings.default_language
        )

    def translation_key(self, src_path: str) -> str:
        """The path shared by an article and its translations: "bn/returns/x.md" -> "returns/x.md"."""
        lang = self.folder_language(src_path)
        return src_path[len(lang) + 1 :] if lang else src_path

    def translations(self, src_path: str, also: Collection[str] = ()) -> dict[str, str]:
        """{lang: src_path} of every existing translation of the article, itself included.
        `also`: pages that are not articles (generated ones, e.g. video pages) that count too."""
        key = self.translation_key(src_path)
        found = {}
        for lang in self.settings.languages:
            candidate = key if lang == self.settings.default_language else f"{lang}/{key}"
            if candidate in self.articles or candidate in also:
                found[lang] = candidate
        return found

    def nearest_in(self, src_path: str, lang: str, also: Collection[str] = ()) -> str:
        """The page a shopper switching to `lang` lands on: the translation of src_path, else
        the index page of its nearest section that exists in `lang`, else that language's home."""
        found = self.translations(src_path, also)
        if lang in found:
            return found[lang]
        prefix = "" if lang == self.settings.default_language else f"{lang}/"
        folder = posixpath.dirname(self.translation_key(src_path))
        while folder:
            for name in ("index.md", "README.md"):
                candidate = f"{prefix}{folder}/{name}"
                if candidate in self.articles or candidate in also:
                    return candidate
            folder = posixpath.dirname(folder)
        return f"{prefix}index.md"

    # -- checks ------------------------------------------------------------------------------

    def category_title(self, slug: str, lang: str) -> str | None:
        value = self.settings.categories.get(slug)
        if isinstance(value, dict):
            return value.get(lang) or value.get(self.settings.default_language)
        return value

    def _check_article(self, article: Article) -> list[Problem]:
        problems: list[Problem] = []
        rel, lines = article.rel_path, article.key_lines
        cats = self.settings.categories
        if article.category and cats and article.category not in cats:
            hint = did_you_mean(article.category, list(cats)) or f": use one of {', '.join(cats)}"
            problems.append(
                error(
                    rel,
                    lines.get("category", 1),
                    f"unknown category '{article.category}'{hint} "
                    "(categories are listed in mkdocs.yml under plugins > kb > categories)",
                )
            )
        if article.lang and article.lang not in self.settings.languages:
            problems.append(
                error(
                    rel,
                    lines.get("lang", 1),
                    f"unknown language '{article.lang}': the site's languages are "
                    f"{', '.join(self.settings.languages)} (plugins > kb > languages in mkdocs.yml)",
                )
            )
        today = self.settings.today or dt.date.today()
        if article.review_by and article.review_by < today:
            problems.append(
                warning(
                    rel,
                    lines.get("review_by", 1),
                    f"stale: review_by {article.review_by.isoformat()} has passed; "
                    "check the article is still right and move the date",
                )
            )
        return problems

    def _check_language_folders(self) -> list[Problem]:
        """A folder named like a language that is not one of the site's languages, holding
        translations of the site's pages (or pages in that script): the fix is to add the
        language, not to rename files."""
        languages = self.settings.languages
        codes = known_language_codes()
        folders: dict[str, list[Article]] = defaultdict(list)
        for src_path, article in sorted(self.articles.items()):
            first, _, rest = src_path.partition("/")
            if rest and first not in languages and first in codes:
                folders[first].append(article)
        problems: list[Problem] = []
        docs = shown_path(self.docs_dir, self.project_dir)
        fix = (f"add it in mkdocs.yml under plugins > kb > languages, e.g. languages: "
               f"[{', '.join(languages)}, {{}}]")  # fmt: skip
        for folder, articles in folders.items():
            mirrored = [a for a in articles if a.src_path[len(folder) + 1 :] in self.articles]
            in_script = folder in INDIC_LANGUAGES and sum(
                detect_script_lang(a.title + " " + a.body[:2000], "") == folder for a in articles
            ) * 2 > len(articles)
            if mirrored:
                first = mirrored[0]
                what = f"translations (this page translates {docs}/{first.src_path[len(folder) + 1:]})"
            elif in_script:
                first = articles[0]
                what = f"pages in the script of '{folder}'"
            else:
                continue
            problems.append(error(first.rel_path, 1,
                                  f"{docs}/{folder}/ holds {what} but '{folder}' is not one of the site's "
                                  f"languages ({', '.join(languages)}): {fix.format(folder)}"))  # fmt: skip
        return problems

    def url_of(self, src_path: str) -> str:
        """Where MkDocs serves the page built from src_path ("a/b.md" -> "a/b/")."""
        return page_url(src_path, self.settings.use_directory_urls)

    def _check_same_urls(self) -> list[Problem]:
        """Two files that MkDocs would write to one URL ("faq.md" and "faq/index.md"): the same
        file name in two folders is fine, the URLs differ."""
        problems: list[Problem] = []
        seen: dict[str, Article] = {}
        for article in self.articles.values():
            url = self.url_of(article.src_path)
            first = seen.setdefault(url, article)
            if first is not article:
                problems.append(
                    error(
                        article.rel_path,
                        1,
                        f"{first.rel_path} is served at the same address '/{url}': "
                        "rename or move one of the two files",
                    )
                )
        return problems

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]
