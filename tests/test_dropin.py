"""kb as a drop-in for MkDocs projects nobody here wrote (tests/fixtures/, see its README):
each builds with `mkdocs build --strict` without kb, and must build the same way with
`plugins: [search, kb]` and default settings — no kb warning, every page in kb's index."""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb_tools.cli import main
from tests.projects import ROOT, mkdocs_build
from tests.projects import write_dedented as write

FIXTURES = ROOT / "tests" / "fixtures"
PROJECTS = [
    "mkdocs-integration/minimal",
    "mkdocs-integration/subpages",
    "mkdocs-integration/unicode",
    "mkdocs-integration/complicated_config",
    "httpx",
    "starlette",
    "plain-material",
]
# Pages other plugins generate that only list other pages (the blog's archive and category
# views): MkDocs' search indexes them, kb leaves them out so a post is not found four times.
LISTINGS = {"plain-material": {"blog/archive/2024/", "blog/category/news/"}}


def with_kb(project: Path, options: str = "") -> None:
    """Add `kb` (with `options`, YAML lines under it) to the project's plugins, as a site owner
    would: after the plugins already listed, or `plugins: [search, kb]` when none are."""
    config = project / "mkdocs.yml"
    lines = config.read_text(encoding="utf-8").splitlines()
    entry = ["  - kb" + (":" if options else "")]
    entry += ["      " + line for line in textwrap.dedent(options).splitlines() if line.strip()]
    if "plugins:" not in lines:
        lines += ["", "plugins:", "  - search", *entry]
    else:
        at = lines.index("plugins:") + 1
        while at < len(lines) and (lines[at].startswith(" ") or not lines[at].strip()):
            at += 1
        while not lines[at - 1].strip():
            at -= 1
        lines[at:at] = entry
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")


def copy_fixture(name: str, dest: Path) -> Path:
    project = dest / Path(name).name
    shutil.copytree(FIXTURES / name, project)
    return project


def site_dir(project: Path) -> Path:
    match = re.search(r"^site_dir:\s*(\S+)", (project / "mkdocs.yml").read_text(encoding="utf-8"), re.M)
    return project / (match.group(1) if match else "site")


def mkdocs_search_pages(site: Path) -> set[str]:
    """Every page MkDocs' own search plugin indexed (its locations without the anchor)."""
    docs = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))["docs"]
    return {d["location"].split("#", 1)[0] for d in docs}


def kb_index_pages(project: Path) -> set[str]:
    chunks = json.loads((project / "search_index" / "chunks.json").read_text(encoding="utf-8"))
    return {c["page_url"] for c in chunks}


def kb_warnings(log: str) -> list[str]:
    return [line for line in log.splitlines() if "kb" in line.lower() and ("WARNING" in line or "ERROR" in line)]


@pytest.mark.slow
@pytest.mark.parametrize("name", PROJECTS)
def test_real_project_builds_strict_with_kb_and_every_page_is_indexed(tmp_path: Path, name: str) -> None:
    project = copy_fixture(name, tmp_path)
    plain = mkdocs_build(project, "--strict")
    assert plain.returncode == 0, f"the fixture itself does not build:\n{plain.stderr[-3000:]}"
    expected = mkdocs_search_pages(site_dir(project)) - LISTINGS.get(name, set())
    shutil.rmtree(site_dir(project))

    with_kb(project)
    result = mkdocs_build(project, "--strict")
    assert result.returncode == 0, result.stderr[-3000:]
    assert kb_warnings(result.stderr) == []
    assert kb_index_pages(project) == expected


def test_with_kb_adds_kb_after_the_listed_plugins(tmp_path: Path) -> None:
    (tmp_path / "mkdocs.yml").write_text("site_name: X\nplugins:\n  - search\n  - blog\n\ntheme: material\n")
    with_kb(tmp_path, "search: false")
    assert (tmp_path / "mkdocs.yml").read_text() == (
        "site_name: X\nplugins:\n  - search\n  - blog\n  - kb:\n      search: false\n\ntheme: material\n"
    )


def kb_check(project: Path, *args: str):
    return CliRunner().invoke(main, ["check", "-f", str(project / "mkdocs.yml"), *args])


def test_kb_check_finds_nothing_wrong_in_a_plain_material_site(tmp_path: Path) -> None:
    project = copy_fixture("plain-material", tmp_path)
    with_kb(project, "search: false")
    result = kb_check(project)
    assert result.exit_code == 0, result.output
    assert "0 errors, 0 warnings" in result.output


@pytest.fixture
def minimal(tmp_path: Path) -> Path:
    write(tmp_path, "mkdocs.yml", "site_name: Minimal\nplugins:\n  - search\n  - kb:\n      search: false\n")
    write(tmp_path, "docs/index.md", "# Welcome\n\nNo front matter here.\n")
    return tmp_path


def built_title(project: Path, url: str) -> str:
    html = (project / "site" / url / "index.html").read_text(encoding="utf-8")
    return re.search(r"<title>(.*?)</title>", html, re.S).group(1).strip()


def test_pages_without_front_matter_take_the_h1_then_the_file_name(minimal: Path) -> None:
    write(minimal, "docs/guide/no-heading.md", "Just text, no heading.\n")
    write(minimal, "docs/guide/with-heading.md", "# Set up the printer\n\nText.\n")
    write(minimal, "docs/guide/heading-later.md", "Intro line.\n\n# Not the title for MkDocs\n")
    write(minimal, "mkdocs.yml", (minimal / "mkdocs.yml").read_text().replace("search: false", "search: true"))
    result = mkdocs_build(minimal, "--strict")
    assert result.returncode == 0, result.stderr
    assert kb_warnings(result.stderr) == []
    titles = {url: built_title(minimal, url).split(" - ")[0] for url in
              ("guide/with-heading", "guide/no-heading", "guide/heading-later")}
    assert titles == {"guide/with-heading": "Set up the printer", "guide/no-heading": "No heading",
                      "guide/heading-later": "Heading later"}
    chunks = json.loads((minimal / "search_index" / "chunks.json").read_text(encoding="utf-8"))
    indexed = {c["page_url"]: c["title"] for c in chunks}
    assert {url + "/": title for url, title in titles.items()}.items() <= indexed.items()


def test_links_inside_code_are_not_links(minimal: Path) -> None:
    write(minimal, "docs/code.md", """\
        # Code

        Inline: `[link](../dir2/bar.md)` and ``[two](missing.md)``.

            [indented](missing-too.md)

        ~~~
        [fenced](nowhere.md)
        ~~~

        <!-- [commented](gone.md) -->
        """)
    result = kb_check(minimal)
    assert result.exit_code == 0, result.output
    assert mkdocs_build(minimal, "--strict").returncode == 0


def test_a_real_broken_link_is_still_reported(minimal: Path) -> None:
    """At MkDocs' own level for it (a warning): kb check says so and --strict fails, a plain
    build does not (on a help center it is an error: tests/test_build_errors.py)."""
    write(minimal, "docs/code.md", "# Code\n\n`code` then [a link](missing.md#part).\n")
    result = kb_check(minimal)
    assert result.exit_code == 0, result.output
    assert "docs/code.md:3: warning: link to 'missing.md' but no page docs/missing.md exists" in result.output
    assert kb_check(minimal, "--strict").exit_code == 1


def test_same_file_name_in_two_folders_is_not_a_duplicate(minimal: Path) -> None:
    write(minimal, "docs/tutorials/blogs/basic.md", "# Basic blog\n")
    write(minimal, "docs/tutorials/social/basic.md", "# Basic social cards\n")
    result = kb_check(minimal)
    assert result.exit_code == 0, result.output


def test_two_files_with_one_url_are_reported(minimal: Path) -> None:
    write(minimal, "docs/faq.md", "# FAQ\n")
    write(minimal, "docs/faq/index.md", "# FAQ too\n")
    result = kb_check(minimal)
    assert result.exit_code == 1
    assert "is served at the same address '/faq/': rename or move one of the two files" in result.output


def test_material_and_blog_keys_are_known_even_in_the_strict_schema(minimal: Path) -> None:
    write(minimal, "docs/setup.md", """\
        ---
        title: Setting up
        description: Install it.
        icon: material/rocket-launch
        status: new
        subtitle: The first steps
        template: main.html
        hide: [navigation, toc, footer, feedback]
        search: {boost: 2}
        tags: [setup]
        social: {cards: false}
        comments: true
        date: 2024-05-02
        authors: [ana]
        categories: [News]
        slug: hello
        readtime: 3
        links: [index.md]
        draft: false
        pin: true
        ---
        # Setting up
        """)
    yml = (minimal / "mkdocs.yml").read_text() + "      schema: strict\n"
    write(minimal, "mkdocs.yml", yml)
    result = kb_check(minimal)
    assert result.exit_code == 0, result.output


def test_other_plugins_keys_are_allowed_by_default_and_rejected_by_the_strict_schema(minimal: Path) -> None:
    write(minimal, "docs/macros.md", "---\nrender_macros: false\ntoc_depth: 2\n---\n# Macros\n")
    assert kb_check(minimal).exit_code == 0
    write(minimal, "mkdocs.yml", (minimal / "mkdocs.yml").read_text() + "      schema: strict\n")
    result = kb_check(minimal)
    assert result.exit_code == 1
    assert "docs/macros.md:2: error: unknown front-matter key 'render_macros'" in result.output


def test_help_center_schema_applies_where_the_site_configures_categories(minimal: Path) -> None:
    write(minimal, "mkdocs.yml", (minimal / "mkdocs.yml").read_text() + "      categories: {returns: Returns}\n")
    write(minimal, "docs/returns/start.md", "---\ntitle: Start a return\ncatgory: returns\n---\n# Start\n")
    result = kb_check(minimal)
    assert result.exit_code == 1
    assert "docs/returns/start.md:3: error: unknown front-matter key 'catgory': did you mean 'category'?" in result.output


def test_every_sample_page_is_in_the_index(sample_build) -> None:
    expected = mkdocs_search_pages(sample_build.site_dir)
    indexed = kb_index_pages(sample_build.project_dir)
    assert {"", "bn/", "gu/", "returns/", "bn/returns/return-policy/"} <= indexed
    assert expected - indexed == set()


def test_readme_documents_every_schema_and_every_known_key() -> None:
    from kb_tools.content.schema import KNOWN_KEYS, SCHEMAS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert [s for s in SCHEMAS if f"| `{s}`" not in readme] == []
    strict_row = next(line for line in readme.splitlines() if line.startswith("| `strict` |"))
    assert [k for k in KNOWN_KEYS if f"`{k}`" not in strict_row] == []
