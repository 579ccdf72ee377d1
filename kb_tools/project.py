"""The help-center project: mkdocs.yml read by MkDocs' own loader (INHERIT, !ENV and !relative
work exactly as in `mkdocs build`), and the folders, languages and settings that every `kb`
command and the MkDocs plugin take from it. Nothing else reads mkdocs.yml."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb_tools.config import KbConfig
from kb_tools.content.site import ContentSettings, ContentSite
from kb_tools.errors import ConfigError
from kb_tools.problems import Problem, shown_path, warning
from kb_tools.slugs import slugify_unless_markdown_has_one

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig

    from kb_tools.video.build import VideoLibrary

TEMPLATING_PLUGINS = ("macros", "mkdocs-macros", "mkdocs_macros")
CONFIG_NAMES = ("mkdocs.yml", "mkdocs.yaml")  # looked for in the current folder, as MkDocs does
KB_OPTIONS_DOC = "The kb options and their defaults are listed in the README under \"The `kb` plugin\"."


@dataclass(frozen=True)
class Project:
    """One help-center project. Paths are absolute; relative settings are resolved against the
    folder of mkdocs.yml, as MkDocs resolves docs_dir and site_dir."""

    config_file: Path | None  # None: no mkdocs.yml, MkDocs' and the plugin's defaults apply
    project_dir: Path
    docs_dir: Path
    site_dir: Path
    use_directory_urls: bool
    kb: KbConfig
    warnings: tuple[Problem, ...] = ()  # settings MkDocs accepts with a warning (unknown keys)
    heading_slugify: Callable[[str, str], str] | None = None  # markdown_extensions > toc > slugify
    heading_separator: str = "-"
    templating: bool = False  # a plugin that fills in {{ ... }} itself (mkdocs-macros)

    # -- finding and reading mkdocs.yml ------------------------------------------------------

    @classmethod
    def load(cls, config_file: str | Path | None = None, *, required: bool = True) -> Project:
        """Read and validate mkdocs.yml, or raise one `ConfigError` naming every invalid setting.

        `config_file` None means mkdocs.yml (or mkdocs.yaml) in the current folder. When that
        is missing and `required` is False, the defaults apply in the current folder: `kb serve`
        on a server that has only `site/` and `search_index/` needs no mkdocs.yml. A file
        named explicitly must exist."""
        path = _find(config_file)
        if path is None:
            if config_file is None and not required:
                return cls.defaults(Path.cwd())
            shown = config_file or CONFIG_NAMES[0]
            raise ConfigError(f"{shown}: no such file: run kb in the folder of mkdocs.yml "
                              "or pass -f path/to/mkdocs.yml")  # fmt: skip
        shown = str(config_file) if config_file is not None else path.name
        config, errors, warnings = _validate(path, shown)
        if errors:
            raise ConfigError(_errors_message(shown, errors))
        plugin = config.plugins.get("kb")
        kb = plugin.config if plugin is not None else _default_kb()
        problems = tuple(warning(shown, 0, f"Config value '{key}': {line}")
                         for key, message in warnings for line in str(message).splitlines())  # fmt: skip
        return cls.from_config(config, kb, problems)

    @classmethod
    def from_config(cls, config: MkDocsConfig, kb: KbConfig, warnings: tuple[Problem, ...] = ()) -> Project:
        """The project of a configuration MkDocs has loaded (the plugin's `on_config`)."""
        config_file = Path(config.config_file_path).resolve() if config.config_file_path else None
        project_dir = config_file.parent if config_file else Path.cwd().resolve()
        toc = (config.mdx_configs or {}).get("toc") or {}
        # A site that chooses no slugify gets readable anchors for headings in Bengali,
        # Gujarati or Hindi script (Markdown's own keeps no letter of them: "#_1", "#_2"), and
        # every anchor Markdown makes stays what it was; the plugin has MkDocs render them.
        chosen = toc.get("slugify", slugify_unless_markdown_has_one)
        slugify = chosen if callable(chosen) else None
        templating = any(name in TEMPLATING_PLUGINS for name in (config.plugins or {}))
        return cls(config_file, project_dir, Path(config.docs_dir), Path(config.site_dir),
                   bool(config.use_directory_urls), kb, warnings, slugify,
                   str(toc.get("separator") or "-"), templating)  # fmt: skip

    @classmethod
    def defaults(cls, folder: Path) -> Project:
        """A project without mkdocs.yml: MkDocs' and the plugin's defaults, relative to `folder`."""
        from mkdocs.config.defaults import MkDocsConfig

        schema = MkDocsConfig()
        folder = Path(folder).resolve()
        return cls(None, folder, folder / schema.docs_dir, folder / schema.site_dir,
                   bool(schema.use_directory_urls), _default_kb())  # fmt: skip

    # -- what the commands and the plugin use -------------------------------------------------

    @property
    def index_dir(self) -> Path:
        return self.project_dir / self.kb.index_dir

    @property
    def cache_dir(self) -> Path:
        return self.project_dir / self.kb.cache_dir

    @property
    def videos_dir(self) -> Path:
        return self.project_dir / self.kb.videos_dir

    @property
    def facts_file(self) -> Path:
        return self.project_dir / self.kb.facts_file

    @property
    def glossary_file(self) -> Path | None:
        """The site's own search glossary (None: the shipped one alone)."""
        return self.project_dir / self.kb.glossary_file if self.kb.glossary_file else None

    @property
    def synonyms_file(self) -> Path | None:
        """The site's own search synonyms (None: the shipped ones alone)."""
        return self.project_dir / self.kb.synonyms_file if self.kb.synonyms_file else None

    @property
    def frames_file(self) -> Path | None:
        """The site's own question frames (None: the shipped ones alone)."""
        return self.project_dir / self.kb.frames_file if self.kb.frames_file else None

    @property
    def languages(self) -> tuple[str, ...]:
        """The site's languages, the default first (articles at the top of docs_dir)."""
        return tuple(self.kb.languages) or ("en",)

    @property
    def default_language(self) -> str:
        return self.languages[0]

    @property
    def model(self) -> str:
        """The embedding model: a relative path is relative to mkdocs.yml, like every other path."""
        candidate = self.project_dir / self.kb.model
        return str(candidate) if not Path(self.kb.model).is_absolute() and candidate.is_dir() else self.kb.model

    def shown(self, path: Path) -> str:
        """`path` as writers know it: relative to the folder of mkdocs.yml when inside it."""
        return shown_path(path, self.project_dir)

    def content_settings(self) -> ContentSettings:
        return ContentSettings(languages=list(self.languages), categories=dict(self.kb.categories),
                               facts_file=self.kb.facts_file, use_directory_urls=self.use_directory_urls,
                               schema=self.kb.schema, videos_dir=self.shown(self.videos_dir),
                               heading_slugify=self.heading_slugify, heading_separator=self.heading_separator,
                               templating=self.templating)  # fmt: skip

    def content_site(self, video_ids: set[str] | None = None, broken_videos: set[str] | None = None) -> ContentSite:
        """Every article, loaded and checked (`video_ids`: the known videos, None = there is no
        videos folder; `broken_videos`: sidecars left out for their errors)."""
        return ContentSite.load(self.project_dir, self.docs_dir, self.content_settings(), video_ids, broken_videos)

    def video_library(self, *, crf: int | None = None, max_height: int | None = None,
                      jobs: int | None = None) -> VideoLibrary | None:  # fmt: skip
        """The project's `VideoLibrary` (not loaded yet), or None when there is no videos folder.
        Arguments that are not None override the plugin's settings (the `kb videos` flags).
        The video package is imported only when there are videos."""
        if not self.videos_dir.is_dir():
            return None
        from kb_tools.video.build import VideoLibrary

        return VideoLibrary(
            self.project_dir, self.videos_dir, self.cache_dir,
            crf=self.kb.video_crf if crf is None else crf,
            max_height=self.kb.video_max_height if max_height is None else max_height,
            jobs=self.kb.video_jobs if jobs is None else jobs,
            docs_dir=self.docs_dir, categories=dict(self.kb.categories), languages=self.languages,
            use_directory_urls=self.use_directory_urls,
        )  # fmt: skip


def find_config(folder: Path) -> Path | None:
    """mkdocs.yml (or mkdocs.yaml) in `folder`, as MkDocs looks for it."""
    return next((folder / name for name in CONFIG_NAMES if (folder / name).is_file()), None)


def _find(config_file: str | Path | None) -> Path | None:
    if config_file is None:
        found = find_config(Path.cwd())
        return found.resolve() if found else None
    return Path(config_file).resolve() if Path(config_file).is_file() else None


def _default_kb() -> KbConfig:
    kb = KbConfig()
    kb.load_dict({})
    kb.validate()
    return kb


def _validate(path: Path, shown: str) -> tuple[MkDocsConfig, dict[str, str], list[tuple[str, Any]]]:
    """mkdocs.yml validated by MkDocs, with every invalid setting.

    MkDocs stops at the first invalid top-level setting, because later ones may depend on it.
    So validate again, with each invalid one set back to its default, until nothing new fails
    (the kb plugin's own options are all listed in one pass, see `KbConfig.validate`). A
    setting whose default is invalid too (docs_dir when there is no docs/ folder) still hides
    what comes after it."""
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.exceptions import ConfigurationError

    invalid: dict[str, str] = {}
    while True:
        config = MkDocsConfig(config_file_path=str(path))
        defaults = dict(config)
        try:
            with path.open("rb") as fd:
                config.load_file(fd)
        except (ConfigurationError, OSError) as exc:  # YAML syntax, a missing INHERIT file
            raise ConfigError(f"{shown}: cannot be read: {exc}") from None
        for key in invalid:
            config[key] = defaults[key]
        failed, warnings = config.validate()
        new = {key: str(exc) for key, exc in failed if key not in invalid}
        if not new:
            return config, invalid, warnings
        invalid.update(new)


def _errors_message(shown: str, errors: dict[str, str]) -> str:
    """Every invalid setting in MkDocs' own words (as `mkdocs build` prints the first of them)."""
    lines = [f"  Config value '{key}': {line}" for key, message in errors.items() for line in message.splitlines()]
    count = f"{len(lines)} invalid setting{'s' * (len(lines) != 1)}"
    return "\n".join([f"{shown} has {count}; fix them and run again:", *lines, KB_OPTIONS_DOC])
