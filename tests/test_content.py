"""`kb check` and the checks inside `mkdocs build`: each broken article gets its own
`path:line: message`, pinned here word for word."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb_tools.cli import main
from kb_tools.content import detect_script_lang, path_language
from kb_tools.content.urls import page_url
from tests.projects import help_center_yml, mkdocs_build
from tests.projects import write_dedented as write

CATEGORIES = {"returns": "Returns", "shipping": "Shipping"}
MKDOCS_YML = help_center_yml("Test shop help", languages=["en", "bn", "gu"], search=False, categories=CATEGORIES)

GOOD = """\
---
title: Return policy
summary: How returns work.
category: returns
tags: [returns]
review_by: 2099-01-01
contact_topic: returns
---
# Return policy

You can return most items within {{ policy.returns.window_days }} days.
See [shipping](../shipping/costs.md).
"""

SHIPPING = """\
---
title: Shipping costs
category: shipping
---
Free above {{ policy.shipping.free_threshold.BD }}.
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(tmp_path, "mkdocs.yml", MKDOCS_YML)
    write(tmp_path, "policy.yml", "returns:\n  window_days: 14\nshipping:\n  free_threshold:\n    BD: '৳2,000'\n")
    write(tmp_path, "docs/index.md", "---\ntitle: Help\n---\n# Help\n")
    write(tmp_path, "docs/returns/return-policy.md", GOOD)
    write(tmp_path, "docs/shipping/costs.md", SHIPPING)
    return tmp_path


def kb_check(project: Path, *args: str):
    runner = CliRunner()
    return runner.invoke(main, ["check", "-f", str(project / "mkdocs.yml"), *args])


def test_clean_site_passes(project: Path) -> None:
    result = kb_check(project)
    assert result.exit_code == 0, result.output
    assert "0 errors, 0 warnings in 3 articles" in result.output


CASES = {
    "broken YAML": (
        "---\ntitle: Broken\ncategory: [returns\n---\nbody\n",
        "docs/returns/broken.md:3: error: front matter is not valid YAML (while parsing a flow "
        "sequence, expected ',' or ']', but got '<stream end>'): fix the YAML between the '---' lines",
    ),
    "tab in front matter": (
        "---\ntitle: Tabbed\n\tcategory: returns\n---\nbody\n",
        "docs/returns/broken.md:3: error: tab character in front matter: YAML allows only spaces "
        "here; replace the tab with spaces",
    ),
    "missing title": (
        "---\nsummary: no title here\ncategory: returns\n---\nbody\n",
        "docs/returns/broken.md:1: error: missing title: add 'title: ...' to the front matter or "
        "start the page with '# Title'",
    ),
    "unknown category": (
        "---\ntitle: Wrong category\ncategory: retuns\n---\nbody\n",
        "docs/returns/broken.md:3: error: unknown category 'retuns': did you mean 'returns'? "
        "(categories are listed in mkdocs.yml under plugins > kb > categories)",
    ),
    "unknown key": (
        "---\ntitle: Typo in a key\ncatgory: returns\n---\nbody\n",
        "docs/returns/broken.md:3: error: unknown front-matter key 'catgory': did you mean 'category'?",
    ),
    "non-UTF-8 file": (
        "---\ntitle: Caf\xe9\n---\n".encode("latin-1"),
        "docs/returns/broken.md:2: error: file is not valid UTF-8 (byte 0xE9): save it as UTF-8 in "
        "your editor",
    ),
    "broken link": (
        "---\ntitle: Linking\n---\nline one\nSee [the policy](return-polcy.md#step-1).\n",
        "docs/returns/broken.md:5: error: link to 'return-polcy.md' but no page "
        "docs/returns/return-polcy.md exists: did you mean 'return-policy.md'?",
    ),
    "unknown policy key": (
        "---\ntitle: Facts\n---\n\nWithin {{ policy.returns.windw_days }} days.\n",
        "docs/returns/broken.md:5: error: unknown policy key 'policy.returns.windw_days': did you "
        "mean 'policy.returns.window_days'? (add it in policy.yml or fix the name)",
    ),
    "policy group instead of value": (
        "---\ntitle: Facts\n---\nAbove {{ policy.shipping.free_threshold }}.\n",
        "docs/returns/broken.md:4: error: policy.shipping.free_threshold is a group, not a value: "
        "use one of policy.shipping.free_threshold.BD",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_broken_article_has_its_own_message(project: Path, case: str) -> None:
    text, expected = CASES[case]
    write(project, "docs/returns/broken.md", text)
    result = kb_check(project)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("docs/")]
    assert lines == [expected]


def test_two_pages_at_one_address(project: Path) -> None:
    write(project, "docs/shipping/return-policy.md", "---\ntitle: Same name, other folder\n---\nbody\n")
    assert kb_check(project).exit_code == 0  # a different URL: fine
    write(project, "docs/returns/return-policy/index.md", "---\ntitle: Another\n---\nbody\n")
    result = kb_check(project)
    assert result.exit_code == 1
    assert (
        "docs/returns/return-policy/index.md:1: error: docs/returns/return-policy.md is served at the same "
        "address '/returns/return-policy/': rename or move one of the two files" in result.output
    ) or (
        "docs/returns/return-policy.md:1: error: docs/returns/return-policy/index.md is served at the same "
        "address '/returns/return-policy/': rename or move one of the two files" in result.output
    )


def test_same_slug_in_another_language_is_a_translation(project: Path) -> None:
    write(project, "docs/bn/returns/return-policy.md", "---\ntitle: ফেরত নীতি\n---\nফেরত\n")
    assert kb_check(project).exit_code == 0


def test_stale_article_is_a_warning_not_an_error(project: Path) -> None:
    write(project, "docs/returns/old.md", "---\ntitle: Old\nreview_by: 2020-01-31\n---\nbody\n")
    result = kb_check(project)
    assert result.exit_code == 0
    assert (
        "docs/returns/old.md:3: warning: stale: review_by 2020-01-31 has passed; check the "
        "article is still right and move the date" in result.output
    )
    assert kb_check(project, "--strict").exit_code == 1


def test_every_problem_is_listed_not_just_the_first(project: Path) -> None:
    write(project, "docs/returns/a.md", "---\ntitle: A\ncategory: nope\n---\n")
    write(project, "docs/returns/b.md", "---\nsummary: no title\n---\n")
    result = kb_check(project)
    assert "docs/returns/a.md:3" in result.output and "docs/returns/b.md:1" in result.output
    assert "2 errors, 0 warnings" in result.output


def test_missing_config_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["check", "-f", str(tmp_path / "mkdocs.yml")])
    assert result.exit_code == 1
    assert result.output == (f"Error: {tmp_path / 'mkdocs.yml'}: no such file: run kb in the folder of "
                             "mkdocs.yml or pass -f path/to/mkdocs.yml\n")


def test_build_fails_on_an_error_with_or_without_strict(project: Path) -> None:
    """An error stops `mkdocs build` (it would publish a wrong page); tests/test_build_errors.py
    pins every kind of mistake and the log levels."""
    write(project, "docs/returns/broken.md", "---\ntitle: X\ncategory: retuns\n---\nbody\n")
    for args in ([], ["--strict"]):
        result = mkdocs_build(project, *args)
        assert result.returncode == 1, args
        assert "docs/returns/broken.md:3: error: unknown category 'retuns'" in result.stderr


def test_policy_facts_change_every_page_in_every_language(project: Path) -> None:
    write(
        project,
        "docs/bn/returns/return-policy.md",
        "---\ntitle: ফেরত নীতি\ncategory: returns\n---\n{{ policy.returns.window_days | digits }} দিনের মধ্যে ফেরত।\n",
    )
    assert mkdocs_build(project, "--strict").returncode == 0
    en = (project / "site/returns/return-policy/index.html").read_text()
    bn = (project / "site/bn/returns/return-policy/index.html").read_text()
    assert "within 14 days" in en and "১৪ দিনের মধ্যে" in bn
    write(project, "policy.yml", "returns:\n  window_days: 30\nshipping:\n  free_threshold:\n    BD: '৳2,000'\n")
    assert mkdocs_build(project, "--strict").returncode == 0
    en = (project / "site/returns/return-policy/index.html").read_text()
    bn = (project / "site/bn/returns/return-policy/index.html").read_text()
    assert "within 30 days" in en and "৩০ দিনের মধ্যে" in bn
    assert "within 14 days" not in en


def test_pages_get_their_language_switcher_and_nav(project: Path) -> None:
    write(project, "docs/bn/index.md", "---\ntitle: সাহায্য কেন্দ্র\n---\nস্বাগতম\n")
    write(project, "docs/bn/returns/return-policy.md", "---\ntitle: ফেরত নীতি\ncategory: returns\n---\nফেরত\n")
    assert mkdocs_build(project, "--strict").returncode == 0
    bn = (project / "site/bn/returns/return-policy/index.html").read_text()
    en = (project / "site/returns/return-policy/index.html").read_text()
    assert '<html lang="bn"' in bn and '<html lang="en"' in en
    # The switcher on the English page leads to the Bengali translation of the same page,
    # and to the Gujarati home page where there is no translation.
    assert 'href="../../bn/returns/return-policy/" hreflang="bn"' in en
    assert 'href="../../gu/" hreflang="gu"' in en
    # The Bengali page's navigation lists Bengali pages only.
    assert "Shipping costs" not in bn.split('class="md-content"')[0]
    assert "Shipping costs" in en


def primary_nav(project: Path, rel: str) -> list[str]:
    """The titles in the built page's primary navigation, in order, each once."""
    html = (project / "site" / rel / "index.html").read_text(encoding="utf-8")
    part = html[html.index("md-nav--primary"):html.index('class="md-content"')]
    return list(dict.fromkeys(re.findall(r'<span class="md-ellipsis">\s*([^<]+?)\s*</span>', part)))


def test_a_written_nav_keeps_its_order_and_titles_and_translations_get_it_in_their_language(project: Path) -> None:
    # The writer's own nav lists the English pages only (translations added later), a page
    # after the sections, and a section title of its own.
    categories = {"returns": {"en": "Returns", "bn": "ফেরত"}, "shipping": "Shipping"}
    yml = help_center_yml("Test shop help", languages=["en", "bn", "gu"], search=False, categories=categories)
    write(project, "mkdocs.yml", yml + """\
nav:
  - Home: index.md
  - Our shipping: [shipping/costs.md]
  - Returns: [returns/return-policy.md]
  - Contact: contact.md
""")
    write(project, "docs/contact.md", "---\ntitle: Contact us\n---\n# Contact us\n")
    write(project, "docs/bn/index.md", "---\ntitle: সাহায্য কেন্দ্র\n---\nস্বাগতম\n")
    write(project, "docs/bn/returns/return-policy.md", "---\ntitle: ফেরত নীতি\ncategory: returns\n---\nফেরত\n")
    result = mkdocs_build(project, "--strict")
    assert result.returncode == 0, result.stderr

    assert primary_nav(project, "returns/return-policy") == ["Home", "Our shipping", "Shipping costs", "Returns", "Return policy", "Contact"]
    # The Bengali pages: the same navigation with the Bengali pages, sections titled in Bengali
    # when a category names them, no English page; next/previous stay in Bengali.
    assert primary_nav(project, "bn/returns/return-policy") == ["সাহায্য কেন্দ্র", "ফেরত", "ফেরত নীতি"]
    home = (project / "site/bn/index.html").read_text(encoding="utf-8")
    assert '<link rel="next" href="returns/return-policy/">' in home


def test_a_page_only_in_another_language_is_in_that_languages_written_nav(project: Path) -> None:
    # A shop writes some pages only in Bengali or Gujarati (an Eid delivery notice, a Diwali
    # offer). The site's nav lists the English pages; such a page has no original to stand in
    # for, so it goes to the end of the section its folder's pages are in -- or where the
    # writer listed it -- and never into the English navigation.
    categories = {"returns": {"en": "Returns", "bn": "ফেরত"}, "shipping": "Shipping"}
    yml = help_center_yml("Test shop help", languages=["en", "bn", "gu"], search=False, categories=categories)
    write(project, "mkdocs.yml", yml + """\
nav:
  - Home: index.md
  - Our shipping: [shipping/costs.md, gu/shipping/diwali.md]
  - Returns: [returns/return-policy.md]
""")
    write(project, "docs/bn/index.md", "---\ntitle: সাহায্য কেন্দ্র\n---\nস্বাগতম\n")
    write(project, "docs/bn/returns/return-policy.md", "---\ntitle: ফেরত নীতি\ncategory: returns\n---\nফেরত\n")
    write(project, "docs/bn/returns/eid-returns.md", "---\ntitle: ঈদের ফেরত\ncategory: returns\n---\nঈদ\n")
    write(project, "docs/bn/ramadan.md", "---\ntitle: রমজানের সময়সূচি\n---\nরমজান\n")
    write(project, "docs/gu/index.md", "---\ntitle: મદદ\n---\nસ્વાગત\n")
    write(project, "docs/gu/shipping/diwali.md", "---\ntitle: દિવાળી ડિલિવરી\ncategory: shipping\n---\nદિવાળી\n")
    result = mkdocs_build(project, "--strict")
    assert result.returncode == 0, result.stderr

    assert primary_nav(project, "bn/returns/eid-returns") == ["সাহায্য কেন্দ্র", "ফেরত", "ফেরত নীতি", "ঈদের ফেরত", "রমজানের সময়সূচি"]
    assert primary_nav(project, "gu/shipping/diwali") == ["મદદ", "Shipping", "દિવાળી ડિલિવરી"]  # where listed, the section in Gujarati
    english = primary_nav(project, "returns/return-policy")
    assert "દિવાળી ડિલિવરી" not in english and "ঈদের ফেরত" not in english
    assert english == ["Home", "Our shipping", "Shipping costs", "Returns", "Return policy"]
    eid = (project / "site/bn/returns/eid-returns/index.html").read_text(encoding="utf-8")
    assert '<link rel="prev" href="../return-policy/">' in eid


def test_script_detection() -> None:
    assert detect_script_lang("আমি কিভাবে পণ্য ফেরত দেব") == "bn"
    assert detect_script_lang("હું મારો ઓર્ડર કેવી રીતે ટ્રેક કરું") == "gu"
    assert detect_script_lang("मेरा ऑर्डर कहाँ है") == "hi"
    assert detect_script_lang("Where is my order? ১২৩") == "en"


def test_any_mkdocs_project_works_with_default_settings(tmp_path: Path) -> None:
    write(tmp_path, "mkdocs.yml", "site_name: Plain\nplugins:\n  - search\n  - kb:\n      search: false\n")
    write(tmp_path, "docs/index.md", "---\ntitle: Hello\n---\n# Hello\n")
    result = mkdocs_build(tmp_path, "--strict")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "site/index.html").exists()


def test_plugin_switches_remove_their_assets_and_point_to_the_api(project: Path) -> None:
    yml = help_center_yml("Test shop help", languages=["en", "bn", "gu"], search=False, feedback=False,
                          analytics=False, api_url="https://help.example.com/", categories=CATEGORIES)
    write(project, "mkdocs.yml", yml)
    assert mkdocs_build(project, "--strict").returncode == 0
    page = (project / "site/returns/return-policy/index.html").read_text()
    assert '<meta name="kb-api" content="https://help.example.com">' in page
    assert 'class="kb-feedback"' not in page
    (bundle,) = re.findall(r'<script defer src="([^"]+/kb\.[0-9a-f]+\.js)"', page)
    script = (project / "site/returns/return-policy" / bundle).resolve().read_text()
    assert "kb-api-search" in script  # the site search stays
    assert "window.KbEvents = {" not in script and "kb-feedback__question" not in script


# -- the URL and language rules every package uses ----------------------------------------------

@pytest.mark.parametrize(("src_path", "directory_urls", "flat_urls"), [
    ("index.md", "", "index.html"),
    ("README.md", "", "index.html"),  # README.md is its folder's page, as in MkDocs
    ("returns/index.md", "returns/", "returns/index.html"),
    ("returns/README.md", "returns/", "returns/index.html"),
    ("returns/start-a-return.md", "returns/start-a-return/", "returns/start-a-return.html"),
    ("returns/readme.md", "returns/readme/", "returns/readme.html"),  # only README, in capitals
    ("bn/ফেরত.md", "bn/%E0%A6%AB%E0%A7%87%E0%A6%B0%E0%A6%A4/", "bn/%E0%A6%AB%E0%A7%87%E0%A6%B0%E0%A6%A4.html"),
])
def test_page_url_follows_mkdocs(src_path: str, directory_urls: str, flat_urls: str) -> None:
    assert page_url(src_path) == directory_urls
    assert page_url(src_path, use_directory_urls=False) == flat_urls


def test_path_language_is_the_folder_of_a_site_language() -> None:
    languages = ("en", "bn", "gu")
    assert path_language("bn/returns/policy.md", languages) == "bn"
    assert path_language("/gu/orders/track/", languages) == "gu"  # a site URL too
    assert path_language("/bn/", languages) == "bn"
    assert path_language("returns/policy.md", languages) is None  # the default language
    assert path_language("hi/returns/policy.md", languages) is None  # not a language of this site
    assert path_language("en/returns/policy.md", languages) is None  # the default has no folder
    assert path_language("bn.md", languages) is None


def test_flat_urls_keep_the_language_switcher_right(project: Path) -> None:
    write(project, "mkdocs.yml", MKDOCS_YML + "use_directory_urls: false\n")
    write(project, "docs/bn/returns/return-policy.md", "---\ntitle: ফেরত নীতি\ncategory: returns\n---\nফেরত\n")
    assert mkdocs_build(project, "--strict").returncode == 0
    en = (project / "site/returns/return-policy.html").read_text()
    assert 'href="../bn/returns/return-policy.html" hreflang="bn"' in en
    assert 'href="../gu/index.html" hreflang="gu"' in en  # no translation: the Gujarati home page


def test_a_kb_error_in_the_build_is_reported_as_mkdocs_own_error(project: Path) -> None:
    write(project, "mkdocs.yml", help_center_yml("Test shop help", languages=["en", "bn", "gu"], model="no-such-model", categories=CATEGORIES))
    result = mkdocs_build(project)
    assert result.returncode == 1
    # The plugin turns our KbError into MkDocs' PluginError: MkDocs' own error line, no traceback.
    assert ("ERROR   -  search index not built, the previous one is kept: search model 'no-such-model' is "
            "neither a packaged model") in result.stderr  # fmt: skip
    assert "Aborted with a BuildError!" in result.stdout and "Traceback" not in result.stderr
