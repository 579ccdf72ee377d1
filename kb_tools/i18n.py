"""One site, several languages: a navigation per language and the language switcher.

Articles in the default language live at the top of docs/, translations in docs/<lang>/ with
the same paths. MkDocs builds one navigation for everything; we split it so a Bengali page
shows the Bengali navigation (with Bengali section titles), and previous/next links stay
inside one language. A site whose `nav:` lists only the default language's pages (as a
writer who adds translations later writes it) gives each other language the same navigation
with that language's translations in place of the pages, the untranslated ones left out; a
page written only in another language (a Bengali page with no English original) goes where
the writer listed it in `nav:`, or else at the end of the section its folder's pages are in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from mkdocs.structure.files import Files
from mkdocs.structure.nav import Navigation, Section
from mkdocs.structure.pages import Page

from kb_tools.content.site import ContentSite


@dataclass
class LanguageNavs:
    navs: dict[str, Navigation] = field(default_factory=dict)
    default: str = "en"

    @classmethod
    def split(cls, nav: Navigation, site: ContentSite, category_order: list[str],
              titles: Mapping[str, str] | None = None, *, files: Files | None = None,
              written: bool = False) -> LanguageNavs:  # fmt: skip
        """One navigation per language, sections in the order of `category_order` and titled in
        that language; `titles`: the titles of generated pages (src_path -> title), so the
        section of a generated index (the videos) gets its title too. Previous/next links
        follow each language's navigation in that order.

        `written`: the navigation is the site's own `nav:` — its order and the default
        language's section titles are the writer's and stay; a language it has no section
        for gets the default language's navigation with its translations (from `files`) in
        place of the pages."""
        titles = titles or {}
        default = site.settings.default_language
        others = set(site.settings.languages[1:])
        by_lang: dict[str, list] = {default: []}
        for item in nav.items:
            lang = _item_language(item, site)
            if lang in others and isinstance(item, Section):
                by_lang[lang] = list(item.children)
                for child in item.children:
                    child.parent = None
            else:
                by_lang[default].append(item)
        if written and files is not None:
            pages_by_src = {f.src_uri: f.page for f in files.documentation_pages() if f.page is not None}
            for lang in site.settings.languages[1:]:
                if lang not in by_lang:
                    by_lang[lang] = _mirror(by_lang[default], lang, pages_by_src, site)
                    _add_unlisted(by_lang[lang], lang, pages_by_src, site)
            by_lang[default] = _in_language(by_lang[default], default, site)
        result = cls(default=default)
        for lang, items in by_lang.items():
            if not written:
                items = _order(items, site, category_order)
            if not written or lang != default:
                for item in items:
                    _retitle(item, site, lang, titles)
            pages = [p for p in _pages_in(items) if site.page_language(p.file.src_uri) == lang]
            for i, page in enumerate(pages):
                page.previous_page = pages[i - 1] if i else None
                page.next_page = pages[i + 1] if i + 1 < len(pages) else None
            result.navs[lang] = Navigation(items, pages)
        return result

    def for_language(self, lang: str) -> Navigation:
        return self.navs.get(lang) or self.navs[self.default]


def _item_language(item, site: ContentSite) -> str:
    if isinstance(item, Page):
        return site.page_language(item.file.src_uri)
    if isinstance(item, Section):
        langs = {_item_language(child, site) for child in item.children}
        if len(langs) == 1:
            return langs.pop()
    return site.settings.default_language


def _section_slug(section: Section) -> str | None:
    for child in section.children:
        if isinstance(child, Page):
            parts = child.file.src_uri.split("/")
            return parts[-2] if len(parts) >= 2 else None
    return None


def _order(items: list, site: ContentSite, category_order: list[str]) -> list:
    """Home first, then sections in the order of the categories in mkdocs.yml, then the rest."""

    def key(item) -> tuple[int, int]:
        if isinstance(item, Page):
            return (0, 0)
        slug = _section_slug(item) if isinstance(item, Section) else None
        if slug in category_order:
            return (1, category_order.index(slug))
        return (2, 0)

    return sorted(items, key=key)


def _mirror(items: list, lang: str, pages_by_src: Mapping[str, Page], site: ContentSite,
            parent: Section | None = None) -> list:  # fmt: skip
    """``items`` with each page replaced by its ``lang`` translation (``<lang>/<path>``), a
    ``lang`` page the writer listed kept, pages without one and sections left empty dropped;
    links kept."""
    out: list = []
    for item in items:
        if isinstance(item, Page):
            own = site.page_language(item.file.src_uri)
            if own == lang:
                page = item
            elif own == site.settings.default_language:
                page = pages_by_src.get(f"{lang}/{item.file.src_uri}")
            else:
                continue
            if page is None:
                continue
            page.parent = parent
            out.append(page)
        elif isinstance(item, Section):
            section = Section(item.title, [])
            section.parent = parent
            section.children = _mirror(item.children, lang, pages_by_src, site, section)
            if section.children:
                out.append(section)
        else:
            out.append(item)
    return out


def _in_language(items: list, lang: str, site: ContentSite) -> list:
    """``items`` without the pages of other languages (a translation-only page the writer
    listed in `nav:` belongs to its own language's navigation), sections left empty dropped."""
    out: list = []
    for item in items:
        if isinstance(item, Page) and site.page_language(item.file.src_uri) != lang:
            continue
        if isinstance(item, Section):
            item.children = _in_language(item.children, lang, site)
            if not item.children:
                continue
        out.append(item)
    return out


def _add_unlisted(items: list, lang: str, pages_by_src: Mapping[str, Page], site: ContentSite) -> None:
    """Put each ``lang`` page the mirrored navigation lacks (one with no original in the
    default language, which the site's `nav:` cannot list by its original) at the end of the
    section holding its folder's pages, or at the end of the navigation."""
    listed = {page.file.src_uri for page in _pages_in(items)}
    prefix = f"{lang}/"
    for src, page in sorted(pages_by_src.items()):
        if not src.startswith(prefix) or src in listed or site.page_language(src) != lang:
            continue
        if src[len(prefix):] in pages_by_src:  # a translation whose original the writer left out
            continue
        folder = src.rpartition("/")[0]
        section = _section_of_folder(items, folder)
        page.parent = section
        (section.children if section is not None else items).append(page)


def _section_of_folder(items: list, folder: str) -> Section | None:
    """The innermost section whose own pages live in ``folder``."""
    for item in items:
        if isinstance(item, Section):
            inner = _section_of_folder(item.children, folder)
            if inner is not None:
                return inner
            if any(isinstance(c, Page) and c.file.src_uri.rpartition("/")[0] == folder for c in item.children):
                return item
    return None


def _pages_in(items: list) -> list[Page]:
    """The pages of a navigation in the order a reader meets them."""
    pages: list[Page] = []
    for item in items:
        if isinstance(item, Page):
            pages.append(item)
        elif isinstance(item, Section):
            pages.extend(_pages_in(item.children))
    return pages


def _retitle(item, site: ContentSite, lang: str, titles: Mapping[str, str]) -> None:
    """Give a category section the title of its index article, or its configured title."""
    if not isinstance(item, Section):
        return
    slug = _section_slug(item)
    for child in item.children:
        if isinstance(child, Page) and child.file.src_uri.endswith("index.md"):
            article = site.articles.get(child.file.src_uri)
            if article is not None:  # a heading names the page, not the section a site named itself
                title = article.title if article.title_from == "front matter" else ""
            else:
                title = titles.get(child.file.src_uri, "")
            if title:
                item.title = title
                return
    title = site.category_title(slug, lang) if slug else None
    if title:
        item.title = title
