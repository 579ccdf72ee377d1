"""The `kb` MkDocs plugin: thin hooks that wire content -> video -> search index.

Any MkDocs project can say `plugins: [search, kb]`. The work is done by the library modules
(`kb_tools.content`, `kb_tools.video`, `kb_tools.search`, `kb_tools.publish`); this file only
calls them at the right moment of the build.

Writers' problems are collected through the whole build and reported together: an error (a
page that would show wrong or raw content) fails `mkdocs build` whatever the log level, a
warning fails it under `--strict`. `mkdocs build` writes the site and the index aside and
publishes them together only when the build passed (`kb_tools.publish`); `mkdocs serve`
builds into its own temporary folder and shows errors in its log without stopping.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority, get_plugin_logger
from mkdocs.structure.files import File, Files
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page

from kb_tools import alternates
from kb_tools.browser_assets import BrowserAssets
from kb_tools.checks import site_words_problems
from kb_tools.config import KbConfig
from kb_tools.content.frontmatter import front_matter_of, without_unsafe_front_matter
from kb_tools.content.languages import language_name
from kb_tools.content.rendered import TemplateCodeMemo, shows_front_matter, template_code
from kb_tools.content.site import ContentSite
from kb_tools.content.urls import page_url
from kb_tools.errors import KbError
from kb_tools.i18n import LanguageNavs
from kb_tools.problems import Problem, error
from kb_tools.project import Project
from kb_tools.publish import Generation, Sweeper, publish_together, write_build_file
from kb_tools.records import PageRecord
from kb_tools.service.contacts import PageHandoff
from kb_tools.template_cache import use_template_cache

if TYPE_CHECKING:
    from kb_tools.search.build import EmbeddingPrefetch
    from kb_tools.video.build import VideoLibrary

log = get_plugin_logger(__name__)

PACKAGE_DIR = Path(__file__).parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"


class KbPlugin(BasePlugin[KbConfig]):
    supports_multiple_instances = False

    def __init__(self) -> None:
        self.site: ContentSite | None = None
        self.videos: VideoLibrary | None = None  # kb_tools.video is imported only when there are videos
        self.records: list[PageRecord] = []
        self.navs: LanguageNavs | None = None
        self.updated: dict[str, str] = {}
        self.project: Project | None = None
        self.handoff: PageHandoff | None = None  # contact channels and labels for "No" on feedback
        self.assets: BrowserAssets | None = None
        self.translated: list[dict[str, str]] = []  # {lang: url} of each page with translations
        self.command: Literal["build", "gh-deploy", "serve"] | None = None  # None: build() called directly
        self.dirty = False
        self.problems: list[Problem] = []
        self.generated: dict[str, str] = {}  # pages kb generates (the videos'): src_path -> title
        self.site_gen: Generation | None = None  # the site being built aside (not under serve)
        self.index_gen: Generation | None = None
        self.prefetch: EmbeddingPrefetch | None = None  # the search index's embedding, started early
        self.rendered: TemplateCodeMemo | None = None  # the last guard's findings by page digest
        self.sweeper: Sweeper | None = None  # deletes generations earlier builds retired
        self.site_words_ok = True  # the site's own glossary, synonyms and frames passed their checks

    # -- configuration ---------------------------------------------------------------------

    def on_startup(self, *, command: Literal["build", "gh-deploy", "serve"], dirty: bool) -> None:
        # Defining this hook also keeps this plugin object across `mkdocs serve` rebuilds.
        self.command = command
        self.dirty = dirty

    @event_priority(100)  # first, so every plugin after us writes into the folder built aside
    def on_config(self, config):
        if not self.config.enabled:
            return config
        self.problems = []
        self.site_gen = self.index_gen = None
        if self.command != "serve":
            # `mkdocs serve` builds into a temporary folder of its own; anything else builds
            # next to site_dir and publishes in on_post_build once everything passed.
            self.site_gen = Generation(Path(config.site_dir))
            config.site_dir = str(self.site_gen.begin(copy_current=self.dirty))
            log.info(f"building aside in {self.site_gen.building.name}/; "
                     f"{self.site_gen.target.name}/ is replaced only when the build passes")
        # The parts that do the work are built here; the hooks below hand each step to them.
        self.project = Project.from_config(config, self.config)
        if self.project.heading_slugify is not None:  # MkDocs renders the anchors the checks and the index read
            config.mdx_configs.setdefault("toc", {}).setdefault("slugify", self.project.heading_slugify)
        if self.site_gen is not None:
            self.sweeper = Sweeper([self.site_gen.target, self.project.index_dir])
        if self.rendered is None or self.rendered.path.parent != self.project.cache_dir:
            self.rendered = TemplateCodeMemo(self.project.cache_dir / "rendered-pages.json")
        self.videos = self.project.video_library()  # None without a videos folder
        if self.config.feedback:
            try:
                self.handoff = PageHandoff.from_env(os.environ)  # the KB_CONTACT_* of kb serve
            except KbError as exc:
                raise PluginError(str(exc)) from exc
        # Our templates (e.g. the Gujarati UI labels Material lacks) come after a custom_dir,
        # before the theme's own, so a site can still override them.
        dirs = config.theme.dirs
        dirs.insert(1 if config.theme.custom_dir else 0, str(TEMPLATES_DIR))
        # kb's browser files: added per page in on_post_page, only where a page uses them.
        self.assets = BrowserAssets(analytics=self.config.analytics, feedback=self.config.feedback)
        return config

    @event_priority(50)  # before other plugins see the files, so generated pages are in nav
    def on_files(self, files: Files, config) -> Files:
        if not self.config.enabled or self.project is None:
            return files
        project = self.project
        video_ids = self._load_videos()
        broken = set(self.videos.broken) if self.videos is not None else None
        self.site = project.content_site(video_ids, broken)
        self._report(self.site.problems)
        words_problems = site_words_problems(project)
        self._report(words_problems)
        self.site_words_ok = not words_problems
        self.generated = {}
        if self.videos is not None:
            for src_uri, markdown in self.videos.pages().items():
                files.append(File.generated(config, src_uri, content=markdown))
                self.generated[src_uri] = str(front_matter_of(markdown).get("title") or "")
        for uri, content in self.assets.files.items():
            files.append(File.generated(config, uri, content=content))
        self.assets.compact_tabs = bool(self.generated)  # the videos section is one more tab
        # "Last update" only where the site asked for it (Material shows page.meta.revision_date).
        self.updated = _last_updated(project.docs_dir) if self.config.last_updated else {}
        self.records = []
        self.translated = []
        return files

    def _load_videos(self) -> set[str] | None:
        if self.videos is None:
            return None
        self._report(self.videos.load())
        return set(self.videos.sources)

    def on_serve(self, server, config, builder):
        # `mkdocs serve` rebuilds when a video sidecar, caption, the policy facts or the site's
        # own search words change.
        if self.config.enabled and self.project is not None:
            project = self.project
            for path in (project.videos_dir, project.facts_file, project.glossary_file, project.synonyms_file,
                         project.frames_file):
                if path is not None and path.exists():
                    server.watch(str(path))
        return server

    def on_nav(self, nav: Navigation, config, files: Files) -> Navigation:
        if not self.config.enabled or self.site is None:
            return nav
        self.navs = LanguageNavs.split(nav, self.site, list(self.config.categories), self.generated, files=files,
                                       written=config["nav"] is not None)
        return self.navs.for_language(self.site.settings.default_language)

    # -- pages -------------------------------------------------------------------------------

    def on_page_read_source(self, page: Page, config) -> str | None:
        if not self.config.enabled:
            return None
        # MkDocs reads front matter itself with plain PyYAML, and its templates print the title:
        # aliases that expand to millions of values would take all the build's memory. Such a
        # page is read without its front matter; kb's own check reports it with its line (an
        # error, so --strict fails).
        try:
            return without_unsafe_front_matter(page.file.content_string)
        except (OSError, UnicodeDecodeError):
            return None  # MkDocs reads it again and says what is wrong

    def on_page_markdown(self, markdown: str, page: Page, config, files: Files) -> str:
        if not self.config.enabled or self.site is None:
            return markdown
        markdown = self.site.facts.substitute(markdown, self._page_lang(page))
        if self.videos is not None:
            # An embed that cannot be shown is already an error of the content checks, with
            # its line in the file (this markdown has no front matter, so its lines are not).
            markdown, _ = self.videos.render_embeds(markdown, page.file.src_uri)
        if page.file.src_uri in self.updated:
            page.meta.setdefault("revision_date", self.updated[page.file.src_uri])
        return markdown

    def on_page_content(self, html: str, page: Page, config, files: Files) -> str:
        if not self.config.enabled or self.site is None:
            return html
        article = self.site.articles.get(page.file.src_uri)
        if article is None:
            if page.file.src_uri in self.generated and not page.is_index:
                html += self._feedback_box(page, str(page.meta.get("contact_topic") or ""))
            self._index_generated(page, html)
            return html
        if not article.is_index:  # home and category pages list articles: no feedback box
            html += self._feedback_box(page, article.contact_topic)
        search = page.meta.get("search")
        if isinstance(search, dict) and search.get("exclude"):
            return html  # Material's own switch: this page stays out of search
        self.records.append(
            PageRecord(
                url=page.url,
                title=page.title or article.title,  # MkDocs' title: nav, front matter, heading, file
                html=html,
                lang=article.lang,
                summary=article.summary,
                category=article.category,
                products=tuple(article.products),
                tags=tuple(article.tags),
                contact_topic=article.contact_topic,
                kind="article",
                src_path=article.src_path,
            )
        )
        return html

    def _index_generated(self, page: Page, html: str) -> None:
        """kb's own generated pages are searchable too: the videos index (each video page is
        indexed from its transcript by the video library)."""
        if self.videos is None or page.file.src_uri not in self.generated:
            return
        if page.file.src_uri.rsplit("/", 1)[-1] != "index.md":
            return
        self.records.append(PageRecord(
            url=page.url, title=page.title or "", html=html, lang=self._page_lang(page),
            kind="article", src_path=page.file.src_uri,
        ))

    def on_env(self, env, config, files: Files):
        # Every page is converted now; MkDocs renders the templates next, with the theme's
        # templates compiled by an earlier build where their source is unchanged.
        if self.config.enabled and self.project is not None and os.environ.get("KB_TEMPLATE_CACHE", "1") != "0":
            use_template_cache(env, self.project.cache_dir)
        # Chunks the embedding cache lacks (an edited article's) are embedded meanwhile, in a
        # background thread.
        if self.config.enabled and self.project is not None and self.config.search:
            from kb_tools.search.build import EmbeddingPrefetch

            self.prefetch = EmbeddingPrefetch(
                self.records, model=self.project.model, query_prefix=self.config.query_prefix,
                passage_prefix=self.config.passage_prefix, cache_dir=self.project.cache_dir,
                index_dir=self.project.index_dir)
        return env

    def on_page_context(self, context: dict, page: Page, config, nav: Navigation) -> dict:
        if not self.config.enabled or self.site is None:
            return context
        lang = self._page_lang(page)
        # Pages render one after the other right after this hook, so setting the language
        # here gives each page its own <html lang>, UI labels and navigation.
        config.theme["language"] = lang
        if self.navs is not None:
            context["nav"] = self.navs.for_language(lang)
        if len(self.site.settings.languages) > 1:
            config.extra["alternate"] = self._alternates(page)
        return context

    def on_post_page(self, output: str, page: Page, config) -> str:
        if not self.config.enabled:
            return output
        self._guard(output, page)
        if self.site is None or self.assets is None:
            return output
        if len(self.site.settings.languages) > 1:
            # The same page in each language that has it (a generated video page too).
            translations = self.site.translations(page.file.src_uri, also=self.generated)
            found = {lang: page_url(src, config.use_directory_urls) for lang, src in translations.items()}
            if len(found) > 1:
                self.translated.append(found)
            output = alternates.rewrite_head(output, found, config.site_url, page.url)
        output = self.assets.add_to(output, page.url)
        if self.config.api_url:
            # Site search and events talk to `kb serve` at this address, not the site's origin.
            meta = f'<meta name="kb-api" content="{escape(self.config.api_url.rstrip("/"))}">'
            output = output.replace("</head>", meta + "\n</head>", 1)
        return output

    def _feedback_box(self, page: Page, topic: str) -> str:
        """Where kb-feedback.js puts "Was this page helpful?" (and, after "No", the contacts)."""
        if self.handoff is None:
            return ""
        return f'\n<div class="kb-feedback" data-url="{page.url}"{self.handoff.attributes(self._page_lang(page), topic)}></div>\n'

    def _guard(self, output: str, page: Page) -> None:
        """The last check: the page as shoppers get it shows no template code and no front
        matter. The source checks catch a writer's mistakes with their lines; this catches what
        came in another way (an include, another plugin), naming the page's file."""
        if self.project is None:
            return
        help_center = self.site is not None and self.site.settings.help_center
        # Scanned only when its HTML changed since the last build (the memo), else remembered.
        fragments = self.rendered.template_code(output) if self.rendered is not None else template_code(output)
        front_matter = bool(help_center and page.content and shows_front_matter(page.content))
        if not fragments and not front_matter:
            return
        shown = self.project.shown(self.project.docs_dir / page.file.src_uri)
        errors = [p for p in self.problems if p.is_error]
        if any(p.path == shown for p in errors):
            return  # already reported, with its line
        # A placeholder already reported in its own file (a title shows in every page's
        # navigation) is not reported again for each page that shows it.
        found = [error(shown, 0, f"the built page shows '{fragment}' as text (it came in after kb's checks, "
                                 "e.g. from an include): fill it in where it comes from")
                 for fragment in fragments
                 if (help_center or "policy." in fragment or "video(" in fragment)
                 and not any(fragment in p.message for p in errors)]  # fmt: skip
        if front_matter:
            found.append(error(shown, 0, "the built page shows its front matter as text: start the file "
                                         "with the '---' line, with nothing above it"))  # fmt: skip
        self._report(found)

    def _page_lang(self, page: Page) -> str:
        return self.site.page_language(page.file.src_uri) if self.site else "en"

    def _alternates(self, page: Page) -> list[dict[str, str]]:
        assert self.site is not None
        settings = self.site.settings
        alternates = []
        for lang in settings.languages:
            # The same page in that language (a video page too), else its section's page there.
            target = self.site.nearest_in(page.file.src_uri, lang, also=self.generated)
            link = page_url(target, settings.use_directory_urls)
            # Relative to the site root without a leading "/": Material's `url` filter then makes
            # it relative to the page, so the site also works under a sub-path or from file://.
            alternates.append({"name": language_name(lang), "link": link or "./", "lang": lang})
        return alternates

    # -- after the pages: videos, the search index, and publishing ----------------------------

    @event_priority(-100)  # last: every other plugin has written its files into the folder aside
    def on_post_build(self, config) -> None:
        if not self.config.enabled or self.project is None:
            return
        if self.rendered is not None:
            self.rendered.save()
        self._stop_on_problems(config)
        site_dir = Path(config.site_dir)
        # Material's language selector fetches sitemap.xml under every alternate's URL.
        alternates.write_sitemaps(site_dir, self.translated, config.site_url)
        video_records = []
        if self.videos is not None:
            try:
                self._report(self.videos.process(site_dir, progress=_progress()))
            except KbError as exc:
                raise PluginError(str(exc)) from exc
            self._stop_on_problems(config)
            video_records = self.videos.records()
        fingerprint = self._build_index(video_records) if self.config.search else None
        self._join_sweeper()  # what earlier builds retired is gone before this one publishes
        if self.site_gen is None:
            return  # mkdocs serve: its own folder is the preview
        if _mkdocs_will_abort():
            return  # --strict and MkDocs' own warnings: it fails right after us; nothing is published
        write_build_file(site_dir, fingerprint)
        gens = [self.site_gen] + ([self.index_gen] if self.index_gen is not None else [])
        try:
            publish_together(gens, keep_retired=True)  # the next build deletes what this one retires
        except KbError as exc:
            raise PluginError(str(exc)) from exc
        config.site_dir = str(self.site_gen.target)  # gh-deploy reads it after the build
        self.site_gen = self.index_gen = None

    def _build_index(self, video_records: list) -> str | None:
        """Build the search index (beside the published one, unless under serve) and return its
        fingerprint. An unchanged index is left as it is and not published again."""
        from kb_tools.search import build_index

        assert self.project is not None
        project = self.project
        out_dir = project.index_dir
        if self.site_gen is not None:
            self.index_gen = Generation(project.index_dir)
            # Starting from links to the published index lets build_index see that nothing changed.
            out_dir = self.index_gen.begin(link_current=True)
        page_chunks = self.prefetch.wait() if self.prefetch is not None else None
        self.prefetch = None
        try:
            manifest = build_index(
                self.records, video_records, out_dir, model=project.model,
                query_prefix=self.config.query_prefix, passage_prefix=self.config.passage_prefix,
                cache_dir=project.cache_dir, progress=_progress(), page_chunks=page_chunks,
                # A mistake in them stops a build before this; `mkdocs serve` logs it and its
                # preview searches without them until it is fixed.
                **({"glossary": project.glossary_file, "synonyms": project.synonyms_file,
                    "frames": project.frames_file} if self.site_words_ok else {}),
            )  # fmt: skip
        except KbError as exc:
            raise PluginError(f"search index not built, the previous one is kept: {exc}") from exc
        if manifest.get("reused") and self.index_gen is not None:
            self.index_gen.abandon()
            self.index_gen = None
        log.info(f"search index: {manifest.get('chunks', '?')} chunks in {self.config.index_dir}/")
        return manifest.get("fingerprint")

    def on_build_error(self, *, error: Exception) -> None:
        self._join_sweeper()
        for gen in (self.site_gen, self.index_gen):
            if gen is not None:
                gen.abandon()
        self.site_gen = self.index_gen = None
        self.prefetch = None  # its thread finishes on its own; what it embedded stays cached

    def _join_sweeper(self) -> None:
        if self.sweeper is not None:
            self.sweeper.join()
            self.sweeper = None

    # -- problems ------------------------------------------------------------------------------

    def _report(self, problems: list[Problem]) -> None:
        """Keep problems for the end of the build. Warnings are logged now; under
        `mkdocs serve` errors are too (it keeps serving, the writer fixes and saves)."""
        for problem in problems:
            self.problems.append(problem)
            if not problem.is_error:
                log.warning(str(problem))
            elif self.command == "serve":
                log.error(str(problem))

    def _stop_on_problems(self, config) -> None:
        """Fail the build with every error (and, with --strict, every warning) listed, whatever
        the log level: raised, not logged, so -q cannot hide it."""
        errors = [p for p in self.problems if p.is_error]
        warnings = [p for p in self.problems if not p.is_error] if config.strict else []
        if self.command == "serve" and not config.strict:
            return  # logged as they were found; the preview keeps running
        if not errors and not warnings:
            return
        counted = [f"{len(errors)} error{'s' * (len(errors) != 1)}"] if errors else []
        if warnings:
            counted.append(f"{len(warnings)} warning{'s' * (len(warnings) != 1)} (--strict)")
        if self.site_gen is not None:
            outcome = (f"nothing was published: {self.site_gen.target.name}/ and {self.config.index_dir}/ "
                       "keep the last good build")  # fmt: skip
        else:
            outcome = "fix them and build again"
        listed = sorted([*errors, *warnings], key=lambda p: (p.path, p.line))
        raise PluginError(f"kb: {' and '.join(counted)}; {outcome}:\n" + "\n".join(map(str, listed)))

def _mkdocs_will_abort() -> bool:
    """True when `mkdocs build --strict` counted warnings: MkDocs raises right after the
    post-build hooks, so publishing now would publish a failed build."""
    from mkdocs.utils import CountHandler

    return any(isinstance(h, CountHandler) and h.get_counts() for h in logging.getLogger("mkdocs").handlers)


def _progress() -> bool:
    return os.environ.get("KB_PROGRESS", "1") != "0"


def _last_updated(docs_dir: Path) -> dict[str, str]:
    """Last commit date of every file under docs/ from one `git log` call; file mtimes for
    files git does not know (or when there is no git)."""
    dates: dict[str, str] = {}
    try:
        top = subprocess.run(
            ["git", "-C", str(docs_dir), "rev-parse", "--show-toplevel"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
        out = subprocess.run(
            ["git", "-C", top, "log", "--format=%x00%cs", "--name-only", "--", str(docs_dir)],
            capture_output=True, text=True, timeout=30, check=True,
        ).stdout
        prefix = docs_dir.resolve().relative_to(Path(top).resolve()).as_posix() + "/"
        date = ""
        for line in out.splitlines():
            if line.startswith("\x00"):
                date = line[1:]
            elif line.startswith(prefix):
                dates.setdefault(line[len(prefix) :], date)
    except (OSError, subprocess.SubprocessError, ValueError):
        pass
    for path in docs_dir.rglob("*.md"):
        rel = path.relative_to(docs_dir).as_posix()
        if rel not in dates:
            dates[rel] = dt.date.fromtimestamp(path.stat().st_mtime).isoformat()
    return dates

