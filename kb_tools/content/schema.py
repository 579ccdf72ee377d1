"""Which front matter a page may carry: the `schema` setting of the kb plugin.

kb is dropped into MkDocs sites it did not write, so by default their front matter is theirs:
no key is required and keys kb does not know belong to the theme or another plugin. Where the
site is set up as a help center, kb checks more.

| schema | what is checked |
|---|---|
| `mkdocs` | kb's own keys, when present, must be valid (`review_by` a date, `videos` known ids, ...); nothing is required; unknown keys are fine |
| `help-center` | as `mkdocs`, and every page needs a title of its own (front matter `title` or a first `# Heading`, not just the file name); an unknown key that looks like a misspelt known one (`catgory`) is an error with "did you mean" |
| `strict` | as `help-center`, and every key must be one kb, MkDocs or Material for MkDocs (with its built-in plugins) documents |
| `auto` (default) | `help-center` when `categories` are set, else `mkdocs` |
"""

from __future__ import annotations

SCHEMAS = ("auto", "mkdocs", "help-center", "strict")

#: kb's own keys (README, "How a writer adds an article").
KB_KEYS = ("title", "summary", "category", "tags", "products", "lang", "review_by", "videos", "contact_topic")

#: Keys MkDocs itself reads (mkdocs.org, Writing your docs > Meta-Data).
MKDOCS_KEYS = ("title", "template")

#: Keys Material for MkDocs documents for pages (docs/reference/index.md, setup/*.md):
#: page title, description, icon, status and subtitle, a template, hiding navigation/toc/footer/
#: feedback/path/tags, search boost/exclude, tags, social cards, comments.
MATERIAL_KEYS = ("description", "icon", "status", "subtitle", "template", "hide", "search", "tags", "social",
                 "comments")

#: Keys of Material's built-in blog plugin (docs/plugins/blog.md, setup/setting-up-a-blog.md).
BLOG_KEYS = ("date", "authors", "categories", "slug", "readtime", "links", "draft", "pin")

KNOWN_KEYS = tuple(dict.fromkeys(KB_KEYS + MKDOCS_KEYS + MATERIAL_KEYS + BLOG_KEYS))


def resolve(schema: str, categories: dict) -> str:
    """The schema in force: `auto` becomes `help-center` where the site configures categories."""
    if schema == "auto":
        return "help-center" if categories else "mkdocs"
    return schema
