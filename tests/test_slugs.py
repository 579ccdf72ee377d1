"""Heading anchors: readable in every script, so search hits link to a real section."""

from kb_tools.slugs import slugify


def test_bengali_gujarati_and_hindi_words_stay_whole() -> None:
    assert slugify("ধাপ ১: আমার অর্ডার খুলুন") == "ধাপ-১-আমার-অর্ডার-খুলুন"
    assert slugify("સ્ટેપ ૨ — રિફંડ") == "સ્ટેપ-૨-રિફંડ"
    assert slugify("रिफ़ंड कब मिलेगा?") == "रिफ़ंड-कब-मिलेगा"


def test_english_anchors_match_markdowns_own() -> None:
    assert slugify("Step 1: Open My Orders") == "step-1-open-my-orders"
    assert slugify("Don't re-use it!") == "dont-re-use-it"
    assert slugify("  ") == ""


def test_zero_width_joiners_are_kept() -> None:
    assert slugify("র\u200dযাব") == "র\u200dযাব"


def test_a_site_that_chooses_no_slugify_gets_readable_indic_anchors_and_markdowns_english_ones(tmp_path) -> None:
    """A writer who follows the README never sets `toc: slugify:`; MkDocs' default numbered every
    Bengali heading "#_1", "#_2" (a search hit's link, unreadable and changing whenever a heading
    is added above it). The kb plugin fills in a slugify when the site chose none: Markdown's own
    anchors where it makes one (no existing link changes), readable ones where it makes none."""
    from tests.projects import help_center_yml, mkdocs_build, write

    yml = help_center_yml("Test shop help", languages=["en", "bn"], search=False, categories={"returns": "Returns"})
    write(tmp_path, "mkdocs.yml", yml)
    write(tmp_path, "docs/index.md", "---\ntitle: Help\n---\n# Help\n")
    write(tmp_path, "docs/returns/return-policy.md",
          "---\ntitle: Return policy\ncategory: returns\n---\n## Step 1: Pack it (v1.2)\n\ntext\n\n## C++ & more\n\ntext\n")
    write(tmp_path, "docs/bn/returns/return-policy.md",
          "---\ntitle: ফেরত নীতি\ncategory: returns\n---\n## ধাপ ১: প্যাক করুন\n\nলেখা\n\n## Refund রিফান্ড\n\nলেখা\n")
    result = mkdocs_build(tmp_path, "--strict")
    assert result.returncode == 0, result.stderr
    en = (tmp_path / "site/returns/return-policy/index.html").read_text(encoding="utf-8")
    bn = (tmp_path / "site/bn/returns/return-policy/index.html").read_text(encoding="utf-8")
    assert 'id="step-1-pack-it-v12"' in en and 'id="c-more"' in en  # Markdown's own, unchanged
    assert 'id="ধাপ-১-প্যাক-করুন"' in bn and 'id="_1"' not in bn
    assert 'id="refund"' in bn  # Markdown makes one: kept


def test_a_slugify_the_site_chose_is_kept(tmp_path) -> None:
    from tests.projects import help_center_yml, mkdocs_build, write

    yml = help_center_yml("Test shop help", languages=["en", "bn"], search=False, categories={"returns": "Returns"})
    write(tmp_path, "mkdocs.yml", yml + "markdown_extensions:\n  - toc:\n      slugify: !!python/name:markdown.extensions.toc.slugify_unicode\n")
    write(tmp_path, "docs/index.md", "---\ntitle: Help\n---\n# Help\n")
    write(tmp_path, "docs/bn/returns/return-policy.md", "---\ntitle: ফেরত নীতি\ncategory: returns\n---\n## ধাপ ১: প্যাক করুন\n\nলেখা\n")
    result = mkdocs_build(tmp_path, "--strict")
    assert result.returncode == 0, result.stderr
    bn = (tmp_path / "site/bn/returns/return-policy/index.html").read_text(encoding="utf-8")
    # Python's \w drops the vowel signs: the writer's choice, not ours.
    assert 'id="ধাপ-১-প্যাক-করুন"' not in bn and 'id="_1"' not in bn
