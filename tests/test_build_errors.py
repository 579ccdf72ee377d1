"""Writers can never ship a broken page (issue 13): every mistake that would publish wrong or
raw content is an error with its `path:line` (lines counted from the file's first line, front
matter included) in `kb check` and in `mkdocs build` alike, and the build fails with a non-zero
exit whatever the log level. The messages are pinned here word for word."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb_tools.cli import main
from tests.projects import help_center_yml, mkdocs_build, write

CATEGORIES = {"returns": "Returns", "payments": "Payments", "shipping": "Shipping"}
EXTENSIONS = [{"toc": {"permalink": True}}, "attr_list", "pymdownx.superfences"]
MKDOCS_YML = help_center_yml("Test shop help", search=False, categories=CATEGORIES, markdown_extensions=EXTENSIONS)

POLICY = """\
shipping:
  dhaka_day: 1
  free_over:
    BD: 2000
returns:
  window_days: 14
"""

BKASH = """\
---
title: Pay with bKash
category: payments
---
# Pay with bKash

## Refunds to bKash or Nagad {#refunds-to-bkash}

Refunds reach your wallet in 3 days.

## Failed payments
"""


def article(body: str, *, title: str = "Start a return", extra: str = "") -> str:
    """An article whose body starts on line 6 (the front matter is lines 1-4, the heading 5)."""
    return f"---\ntitle: {title}\ncategory: returns\n{extra}---\n# {title}\n" + textwrap.dedent(body)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(tmp_path, "mkdocs.yml", MKDOCS_YML)
    write(tmp_path, "policy.yml", POLICY)
    write(tmp_path, "docs/index.md", "---\ntitle: Help\n---\n# Help\n")
    write(tmp_path, "docs/payments/bkash-payment.md", BKASH)
    write(tmp_path, "docs/assets/box.png", b"\x89PNG\r\n\x1a\n")
    return tmp_path


def with_video(project: Path) -> Path:
    """A valid sidecar for the video 'start-a-return' (its media is never processed here:
    the builds below fail on the writer's error first)."""
    write(project, "videos/start-a-return.yml", "title: Start a return\nfile: start-a-return.mp4\n")
    write(project, "videos/start-a-return.mp4", b"\x00\x00\x00\x18ftypmp42")
    return project


def kb_check(project: Path, *args: str):
    return CliRunner().invoke(main, ["check", "-f", str(project / "mkdocs.yml"), *args])


def problem_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if re.match(r"^\s*(docs|videos)/\S+: (error|warning): ", line.strip())]


# Each case: the files written (on top of the fixture), and the exact lines kb check and the
# build print. Line numbers are counted from the file's first line.
CASES: dict[str, tuple[dict[str, str], list[str]]] = {
    "unknown video id, no videos at all": (
        {"docs/returns/start.md": article("\nLine 7.\n\nLine 9.\n\nLine 11.\n\n{{ video(\"brew-greentea\") }}\n")},
        ["docs/returns/start.md:13: error: unknown video 'brew-greentea': there is no videos/brew-greentea.yml "
         "(no videos yet: a video is a media file with a sidecar videos/<id>.yml)"],
    ),
    "unknown video id, a close one exists": (
        {"docs/returns/start.md": article("\nWatch it:\n\n{{ video('start-a-retrun') }}\n")},
        ["docs/returns/start.md:9: error: unknown video 'start-a-retrun': did you mean 'start-a-return'? "
         "(videos are the videos/<id>.yml files)"],
    ),
    "unknown video id, nothing close": (
        {"docs/returns/start.md": article("\n{{ video(\"brew-greentea\") }}\n")},
        ["docs/returns/start.md:7: error: unknown video 'brew-greentea': there is no videos/brew-greentea.yml "
         "(the videos are: start-a-return)"],
    ),
    "unknown video id in front matter": (
        {"docs/returns/start.md": article("\nBody.\n", extra="videos: [start-a-retrun]\n")},
        ["docs/returns/start.md:4: error: unknown video 'start-a-retrun': did you mean 'start-a-return'? "
         "(videos are the videos/<id>.yml files)"],
    ),
    "video embed inside a sentence": (
        {"docs/returns/start.md": article("\nWatch {{ video(\"start-a-return\") }} first.\n")},
        ["docs/returns/start.md:7: error: video embed '{{ video(\"start-a-return\") }}' must stand on a "
         "line of its own: move it to its own line"],
    ),
    "placeholder not closed": (
        {"docs/returns/start.md": article("\nDhaka in {{ policy.shipping.dhaka_day } day.\n")},
        ["docs/returns/start.md:7: error: placeholder '{{ policy.shipping.dhaka_day }' is not closed: "
         "write '{{ policy.shipping.dhaka_day }}'"],
    ),
    "placeholder not opened": (
        {"docs/returns/start.md": article("\nReturn within { policy.returns.window_days }} days.\n")},
        ["docs/returns/start.md:7: error: placeholder '{ policy.returns.window_days }}' is not opened: "
         "write '{{ policy.returns.window_days }}'"],
    ),
    "placeholder with single braces": (
        {"docs/returns/start.md": article("\nReturn within { policy.returns.window_days } days.\n")},
        ["docs/returns/start.md:7: error: placeholder '{ policy.returns.window_days }' needs double "
         "braces: write '{{ policy.returns.window_days }}'"],
    ),
    "placeholder without its end on the line": (
        {"docs/returns/start.md": article("\nReturn within {{ policy.returns.window_days days.\n")},
        ["docs/returns/start.md:7: error: placeholder '{{ policy.returns.window_days days.' is not closed: "
         "write '{{ policy.returns.window_days }}'"],
    ),
    "unknown placeholder": (
        {"docs/returns/start.md": article("\nCall {{ shop.phone }} today.\n")},
        ["docs/returns/start.md:7: error: unknown placeholder '{{ shop.phone }}': kb fills in only "
         "{{ policy.<key> }} and {{ video(\"<id>\") }} (show template code as `code`)"],
    ),
    "template tag": (
        {"docs/returns/start.md": article("\n{% if vip %}Free returns.{% endif %}\n")},
        ["docs/returns/start.md:7: error: template tag '{% if vip %}' is not filled in by kb: kb fills in "
         "only {{ policy.<key> }} and {{ video(\"<id>\") }} (show template code as `code`)",
         "docs/returns/start.md:7: error: template tag '{% endif %}' is not filled in by kb: kb fills in "
         "only {{ policy.<key> }} and {{ video(\"<id>\") }} (show template code as `code`)"],
    ),
    "policy group would publish raw": (
        {"docs/returns/start.md": article("\nFree delivery over {{policy.shipping.free_over}}.\n")},
        ["docs/returns/start.md:7: error: policy.shipping.free_over is a group, not a value: use one of "
         "policy.shipping.free_over.BD"],
    ),
    "placeholder in the title": (
        {"docs/returns/start.md": "---\ntitle: Free over {{ policy.shipping.free_over.BD }}\n---\nBody.\n"},
        ["docs/returns/start.md:2: error: placeholder '{{ policy.shipping.free_over.BD }}' in 'title' is "
         "not filled in: front matter is shown as written; write the value itself"],
    ),
    "broken front matter YAML": (
        {"docs/returns/start.md": "---\ntitle: Start\nsummary: [broken\n---\n# Start\n"},
        ["docs/returns/start.md:3: error: front matter is not valid YAML (while parsing a flow sequence, "
         "expected ',' or ']', but got '<stream end>'): fix the YAML between the '---' lines"],
    ),
    "front matter below a blank line": (
        {"docs/returns/start.md": "\n---\ntitle: Start\n---\n# Start\n"},
        ["docs/returns/start.md:2: error: front matter must start on the first line, or it is shown as "
         "text: remove the blank lines above '---'"],
    ),
    "link to a missing anchor": (
        {"docs/returns/start.md": article("\nSee [refunds](../payments/bkash-payment.md#refund-to-bkash).\n")},
        ["docs/returns/start.md:7: error: link to '../payments/bkash-payment.md#refund-to-bkash' but "
         "docs/payments/bkash-payment.md has no anchor '#refund-to-bkash': did you mean '#refunds-to-bkash'?"],
    ),
    "link to a missing anchor, nothing close": (
        {"docs/returns/start.md": article("\n\n\nSee [fees](../payments/bkash-payment.md#fees).\n")},
        ["docs/returns/start.md:9: error: link to '../payments/bkash-payment.md#fees' but "
         "docs/payments/bkash-payment.md has no anchor '#fees' (its anchors: #pay-with-bkash, "
         "#refunds-to-bkash, #failed-payments)"],
    ),
    "link to a missing anchor on the same page": (
        {"docs/returns/start.md": article("\n## Pack the item\n\nSee [packing](#pack-the-items).\n")},
        ["docs/returns/start.md:9: error: link to '#pack-the-items' but this page has no anchor "
         "'#pack-the-items': did you mean '#pack-the-item'?"],
    ),
    "missing image": (
        {"docs/returns/start.md": article("\n![The box](../assets/boxx.png)\n")},
        ["docs/returns/start.md:7: error: image '../assets/boxx.png' but no file docs/assets/boxx.png "
         "exists: did you mean '../assets/box.png'?"],
    ),
    "missing image in HTML": (
        {"docs/returns/start.md": article("\n<img src=\"../assets/label.png\" alt=\"The label\">\n")},
        ["docs/returns/start.md:7: error: image '../assets/label.png' but no file docs/assets/label.png exists"],
    ),
    "missing media": (
        {"docs/returns/start.md": article("\n<video controls src=\"../assets/unboxing.mp4\"></video>\n\n"
                                          "[The form (PDF)](../assets/return-form.pdf)\n")},
        ["docs/returns/start.md:7: error: video '../assets/unboxing.mp4' but no file docs/assets/unboxing.mp4 exists",
         "docs/returns/start.md:9: error: link to '../assets/return-form.pdf' but no file "
         "docs/assets/return-form.pdf exists"],
    ),
    "language folder not in languages": (
        {"docs/shipping/delivery-dhaka.md": "---\ntitle: Delivery in Dhaka\ncategory: shipping\n---\n# Delivery\n",
         "docs/bn/shipping/delivery-dhaka.md": "---\ntitle: ঢাকায় ডেলিভারি\ncategory: shipping\n---\n"
                                               "{{ policy.shipping.dhaka_day | digits }} দিনে।\n"},
        ["docs/bn/shipping/delivery-dhaka.md:1: error: docs/bn/ holds translations (this page translates "
         "docs/shipping/delivery-dhaka.md) but 'bn' is not one of the site's languages (en): add it in "
         "mkdocs.yml under plugins > kb > languages, e.g. languages: [en, bn]"],
    ),
}
NEEDS_VIDEO = {"unknown video id, a close one exists", "unknown video id, nothing close",
               "unknown video id in front matter", "video embed inside a sentence"}


def make_case(project: Path, case: str) -> list[str]:
    files, expected = CASES[case]
    if case in NEEDS_VIDEO:
        with_video(project)
    for rel, text in files.items():
        write(project, rel, text)
    return expected


@pytest.mark.parametrize("case", sorted(CASES))
def test_kb_check_reports_each_mistake_on_its_line(project: Path, case: str) -> None:
    expected = make_case(project, case)
    result = kb_check(project)
    assert problem_lines(result.output) == expected
    assert result.exit_code == 1


@pytest.mark.parametrize("case", sorted(CASES))
def test_quiet_build_fails_on_each_mistake_with_its_line(project: Path, case: str) -> None:
    expected = make_case(project, case)
    result = mkdocs_build(project, "-q")
    assert result.returncode == 1, result.stderr
    assert problem_lines(result.stderr) == expected


def test_every_mistake_is_listed_at_once_whatever_the_log_level(project: Path) -> None:
    """One site with every mistake: the build lists them all (not just the first) and fails
    under the default level, -q and -v, without --strict."""
    expected: list[str] = []
    for n, case in enumerate(c for c in sorted(CASES) if c not in NEEDS_VIDEO):
        files, lines = CASES[case]
        for rel, text in files.items():
            renamed = rel if "bn/" in rel or "shipping/" in rel else rel.replace("start.md", f"case-{n}.md")
            write(project, renamed, text)
        expected += [line.replace("docs/returns/start.md", f"docs/returns/case-{n}.md") for line in lines]
    # Sorted by file and line; problems on one line keep their order in the line.
    expected.sort(key=lambda line: (line.split(":")[0], int(line.split(":")[1])))
    checked = kb_check(project)
    assert checked.exit_code == 1
    assert problem_lines(checked.output) == expected
    for level in ([], ["-q"], ["-v"]):
        result = mkdocs_build(project, *level)
        assert result.returncode == 1, (level, result.stderr[-3000:])
        assert problem_lines(result.stderr) == expected, level
        assert f"kb: {len(expected)} errors" in result.stderr


def test_stale_article_fails_only_under_strict_even_when_quiet(project: Path) -> None:
    write(project, "docs/returns/old.md", article("\nBody.\n", extra="review_by: 2020-01-31\n"))
    stale = ("docs/returns/old.md:4: warning: stale: review_by 2020-01-31 has passed; check the "
             "article is still right and move the date")
    relaxed = mkdocs_build(project, "-q")
    assert relaxed.returncode == 0, relaxed.stderr
    assert (project / "site/returns/old/index.html").is_file()
    for args in (["--strict"], ["--strict", "-q"]):
        strict = mkdocs_build(project, *args)
        assert strict.returncode == 1, args
        assert stale in problem_lines(strict.stderr), args


def test_code_may_show_template_syntax(project: Path) -> None:
    """Docs about templates: `{{`, `{%` and placeholders in code spans, fenced and indented
    code are text, never checked and never filled in."""
    write(project, "docs/returns/templates.md", article(
        "\nWrite `{{ policy.returns.window_days }}` or `{% raw %}` in your text.\n\n"
        "```jinja\n{{ policy.nope }} {% if x %} { policy.returns.window_days }}\n{{ video(\"nope\") }}\n```\n\n"
        "    {{ shop.phone }}\n"
    ))
    result = mkdocs_build(project, "-q")
    assert result.returncode == 0, result.stderr
    assert kb_check(project).exit_code == 0
    html = (project / "site/returns/templates/index.html").read_text()
    assert "<code>{{ policy.returns.window_days }}</code>" in html


def test_placeholder_from_an_include_is_caught_in_the_built_page(project: Path) -> None:
    """The last guard: a placeholder that reaches the rendered page by a way kb's source checks
    cannot see (here a pymdownx.snippets include) fails the build, naming the page's file."""
    snippets = {"pymdownx.snippets": {"base_path": ["snippets"]}}
    yml = help_center_yml("Test shop help", search=False, categories=CATEGORIES, markdown_extensions=[*EXTENSIONS, snippets])
    write(project, "mkdocs.yml", yml)
    write(project, "snippets/window.md", "Return within {{ policy.returns.window_days }} days.\n")
    write(project, "docs/returns/start.md", article('\n--8<-- "window.md"\n'))
    assert kb_check(project).exit_code == 0  # nothing wrong in the writer's own file
    result = mkdocs_build(project, "-q")
    assert result.returncode == 1
    assert problem_lines(result.stderr) == [
        "docs/returns/start.md: error: the built page shows '{{ policy.returns.window_days }}' as text "
        "(it came in after kb's checks, e.g. from an include): fill it in where it comes from"
    ]


CODE = re.compile(r"<(code|pre|script|style|textarea)\b.*?</\1>", re.S | re.I)
DATA_ATTR = re.compile(r"""\sdata-[\w-]+=("[^"]*"|'[^']*')""")  # data for scripts (e.g. the feedback box's settings)
FRONT_MATTER_SHOWN = re.compile(r"<hr\s*/?>\s*<(p|h2)>\s*[A-Za-z_][\w-]*:\s", re.I)


def test_data_for_scripts_is_not_text_a_shopper_reads() -> None:
    """The feedback box carries its contact settings as JSON in an attribute ('}}' closes
    nested objects): not template code. Text a browser shows from attributes still counts."""
    from kb_tools.content.rendered import template_code

    html = ('<div class="kb-feedback" data-handoff="{&quot;labels&quot;:{&quot;no&quot;:&quot;No&quot;}}"></div>'
            '<p>Fine.</p><img src="box.png" alt="{{ policy.returns.window_days }} days">')
    assert template_code(html) == ["{{ policy.returns.window_days }}"]


def test_no_page_of_the_built_sample_shows_template_code_or_front_matter(sample_build) -> None:
    """What shoppers get never contains `{{`, `{%` or a front-matter block: not in any page
    (outside code), not in Material's search index, not in kb's search chunks."""
    pages = sorted(sample_build.site_dir.rglob("*.html"))
    assert len(pages) > 60
    for path in pages:
        text = DATA_ATTR.sub("", CODE.sub("", path.read_text(encoding="utf-8")))
        for token in ("{{", "{%", "%}", "}}"):
            assert token not in text, f"{path.relative_to(sample_build.site_dir)} shows {token!r}"
        assert not FRONT_MATTER_SHOWN.search(text), f"{path} shows its front matter"
    for index in (sample_build.site_dir / "search/search_index.json", sample_build.index_dir / "chunks.json"):
        text = index.read_text(encoding="utf-8")
        assert "{{" not in text and "{%" not in text, index


# The site's own search words (plugins > kb > glossary_file / synonyms_file): each file's mistakes
# on their lines, in kb check and the build alike; a missing file names the option and the path.
WORDS_YML = help_center_yml("Test shop help", search=False, categories=CATEGORIES, markdown_extensions=EXTENSIONS,
                            glossary_file="search/glossary.yml", synonyms_file="search/synonyms.yml")
WORDS_CASES: dict[str, tuple[dict[str, str], list[str]]] = {
    "glossary word in another script": (
        {"search/glossary.yml": "# our products\nzuno:\n  bn: গানবাক্স\n  gu: গানবাক্স\n"},
        ["search/glossary.yml:4: error: 'zuno', gu: 'গানবাক্স' is not written in the gu script"],
    ),
    "glossary language unknown": (
        {"search/glossary.yml": "zuno:\n  bengali: গানবাক্স\n"},
        ["search/glossary.yml:2: error: 'zuno': unknown language 'bengali' "
         "(one of bn, gu, hi, bn-Latn, gu-Latn, hi-Latn)"],
    ),
    "glossary entry listed twice": (
        {"search/glossary.yml": "zuno:\n  bn: গানবাক্স\nzuno:\n  bn-Latn: ganbaksho\n"},
        ["search/glossary.yml:3: error: 'zuno' is listed twice: merge the two entries"],
    ),
    "synonyms not a list": (
        {"search/synonyms.yml": "cash on delivery: [cod]\nbkash: mobile banking\n"},
        ["search/synonyms.yml:2: error: 'bkash': list the words shoppers use for it in brackets, "
         "e.g. `bkash: [word, other word]`"],
    ),
    "synonyms not valid YAML": (
        {"search/synonyms.yml": "bkash: [mobile banking\nnagad: [wallet]\n"},
        ["search/synonyms.yml:2: error: not valid YAML (expected ',' or ']', but got ':')"],
    ),
    "glossary file missing": (
        {"search/glossary.yml": ""},
        ["mkdocs.yml: error: plugins > kb > glossary_file: there is no file search/glossary.yml: "
         "create it or fix the path (relative to mkdocs.yml)"],
    ),
}


def make_words_case(project: Path, case: str) -> list[str]:
    write(project, "mkdocs.yml", WORDS_YML)
    write(project, "search/glossary.yml", "zuno:\n  bn: গানবাক্স\n")
    write(project, "search/synonyms.yml", "cash on delivery: [cod]\n")
    files, expected = WORDS_CASES[case]
    for rel, text in files.items():
        if text:
            write(project, rel, text)
        else:
            (project / rel).unlink()
    return expected


def words_problem_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if re.match(r"^(search/\S+|mkdocs\.yml): (error|warning): ", line.strip())]


def test_the_sites_own_words_pass_when_right(project: Path) -> None:
    write(project, "mkdocs.yml", WORDS_YML)
    write(project, "search/glossary.yml", "zuno:\n  bn: গানবাক্স\n")
    write(project, "search/synonyms.yml", "cash on delivery: [cod]\n")
    assert kb_check(project).exit_code == 0
    assert mkdocs_build(project, "-q").returncode == 0


@pytest.mark.parametrize("case", sorted(WORDS_CASES))
def test_kb_check_reports_each_mistake_in_the_sites_words_on_its_line(project: Path, case: str) -> None:
    expected = make_words_case(project, case)
    result = kb_check(project)
    assert words_problem_lines(result.output) == expected
    assert result.exit_code == 1


@pytest.mark.parametrize("case", sorted(WORDS_CASES))
def test_quiet_build_fails_on_each_mistake_in_the_sites_words_with_its_line(project: Path, case: str) -> None:
    expected = make_words_case(project, case)
    result = mkdocs_build(project, "-q")
    assert result.returncode == 1, result.stderr
    assert words_problem_lines(result.stderr) == expected
    assert not (project / "site").exists()  # nothing was published
