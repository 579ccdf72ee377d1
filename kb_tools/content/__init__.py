"""Articles, front matter, policy facts and the site-wide content checks, and the rules every
other package follows for page URLs (`kb_tools.content.urls`, which imports MkDocs) and for
languages (`kb_tools.content.languages`, which imports nothing)."""

from kb_tools.content.facts import PolicyFacts
from kb_tools.content.frontmatter import ARTICLE_KEYS, Article
from kb_tools.content.languages import (
    INDIC_LANGUAGES,
    LANGUAGE_NAMES,
    detect_script_lang,
    language_name,
    path_language,
)
from kb_tools.content.site import ContentSettings, ContentSite

__all__ = [
    "ARTICLE_KEYS",
    "INDIC_LANGUAGES",
    "LANGUAGE_NAMES",
    "Article",
    "ContentSettings",
    "ContentSite",
    "PolicyFacts",
    "detect_script_lang",
    "language_name",
    "path_language",
]
