"""Articles, front matter, policy facts and the site-wide content checks."""

from kb_tools.content.facts import PolicyFacts
from kb_tools.content.frontmatter import ARTICLE_KEYS, Article, detect_script_lang
from kb_tools.content.site import ContentSettings, ContentSite

__all__ = [
    "ARTICLE_KEYS",
    "Article",
    "ContentSettings",
    "ContentSite",
    "PolicyFacts",
    "detect_script_lang",
]
