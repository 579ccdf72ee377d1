"""One project for every `kb` command: mkdocs.yml read by MkDocs' own loader, `-f` on every
command, folders from mkdocs.yml, every invalid setting listed at once, one error shape."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kb_tools.cli import main
from kb_tools.project import Project
from kb_tools.records import PageRecord
from tests.projects import write

PROJECT_COMMANDS = ["check", "search", "serve", "videos", "report"]

ARTICLE = "---\ntitle: Start a return\ncategory: returns\n---\n# Start a return\n\nPack the kettle in its box.\n"


def kb(*args: str):  # noqa: ANN201
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A project whose folders are not the defaults, and a current folder elsewhere."""
    write(tmp_path, "shop/mkdocs.yml", (
        "site_name: Shop help\ndocs_dir: articles\nsite_dir: public\n"
        "plugins:\n  - kb:\n      index_dir: build/index\n      search: false\n"
    ))  # fmt: skip
    write(tmp_path, "shop/articles/returns/start.md", ARTICLE)
    return tmp_path / "shop"


def test_project_reads_folders_and_languages_from_mkdocs_yml(site: Path) -> None:
    project = Project.load(site / "mkdocs.yml")
    assert project.project_dir == site.resolve()
    assert project.docs_dir == site.resolve() / "articles"
    assert project.site_dir == site.resolve() / "public"
    assert project.index_dir == site.resolve() / "build" / "index"
    assert project.cache_dir == site.resolve() / ".kb_cache"
    assert project.languages == ("en",) and project.use_directory_urls is True


def test_inherit_and_env_work_as_in_mkdocs(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    write(tmp_path, "docs/index.md", "---\ntitle: Home\n---\n")
    # Plugins as a mapping, so MkDocs merges the two files' kb options (a list is replaced).
    write(tmp_path, "base.yml", "site_name: Base\nplugins:\n  kb:\n    languages: [en, bn]\n")
    write(tmp_path, "mkdocs.yml", (
        "INHERIT: base.yml\nplugins:\n  kb:\n    index_dir: !ENV [KB_TEST_INDEX_DIR, idx]\n"
    ))  # fmt: skip
    monkeypatch.setenv("KB_TEST_INDEX_DIR", "from-env")
    project = Project.load(tmp_path / "mkdocs.yml")
    assert project.languages == ("en", "bn")  # from the inherited file
    assert project.index_dir == tmp_path.resolve() / "from-env"


@pytest.mark.parametrize("command", PROJECT_COMMANDS)
def test_every_project_command_takes_f_config_file(command: str) -> None:
    result = kb(command, "--help")
    assert result.exit_code == 0
    assert "-f, --config-file FILE" in result.output
    assert "--project-dir" not in result.output  # the old spellings are hidden


def test_every_invalid_setting_is_listed_at_once(site: Path) -> None:
    write(site, "mkdocs.yml", (
        "site_name: Shop help\ndocs_dir: artikles\nuse_directory_urls: maybe\n"
        "plugins:\n  - kb:\n      video_crf: high\n      languages: en\n"
    ))  # fmt: skip
    write(site, "docs/index.md", "---\ntitle: Home\n---\n")
    config = site / "mkdocs.yml"
    result = kb("check", "-f", str(config))
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {config} has 4 invalid settings; fix them and run again:\n"
        f"  Config value 'docs_dir': The path '{site.resolve() / 'artikles'}' isn't an existing directory.\n"
        "  Config value 'use_directory_urls': Expected type: <class 'bool'> but received: <class 'str'>\n"
        "  Config value 'plugins': Plugin 'kb' option 'languages': Expected a list of items, but a "
        "<class 'str'> was given. (default: [en])\n"
        "  Config value 'plugins': Plugin 'kb' option 'video_crf': Expected type: <class 'int'> but "
        "received: <class 'str'> (default: 23)\n"
        "The kb options and their defaults are listed in the README under \"The `kb` plugin\".\n"
    )


def test_a_misspelt_option_is_a_warning_with_the_fix_and_fails_under_strict(site: Path) -> None:
    config = site / "mkdocs.yml"
    config.write_text(config.read_text().replace("index_dir:", "index_dri:"))
    warning = ("mkdocs.yml: warning: Config value 'plugins': Plugin 'kb' option 'index_dri': "
               "Unrecognised configuration name: index_dri: did you mean 'index_dir'?")  # fmt: skip
    relaxed = kb("check", "-f", str(config))
    assert relaxed.exit_code == 0
    assert f"{config}: warning: Config value 'plugins'" in relaxed.output
    assert warning.split(": warning: ", 1)[1] in relaxed.output
    assert "0 errors, 1 warning in 1 articles and 0 videos" in relaxed.output
    assert kb("check", "--strict", "-f", str(config)).exit_code == 1


def test_kb_check_exit_code_and_message_shape(site: Path) -> None:
    config = site / "mkdocs.yml"
    clean = CliRunner().invoke(main, ["check", "-f", str(config)])
    assert (clean.exit_code, clean.stdout, clean.stderr) == (0, "", "0 errors, 0 warnings in 1 articles and 0 videos\n")
    # (A misspelt key is not an error here: without `categories` the site's front matter is its own.)
    write(site, "articles/returns/bad.md", "---\ntitle: Bad\nreview_by: someday\n---\n")
    broken = CliRunner().invoke(main, ["check", "-f", str(config)])
    assert broken.exit_code == 1
    assert broken.stdout == "articles/returns/bad.md:3: error: 'review_by' must be a date like 2027-03-31, not 'someday'\n"
    assert broken.stderr == "1 error, 0 warnings in 2 articles and 0 videos\n"


def test_kb_search_reads_index_dir_from_mkdocs_yml(site: Path, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    from kb_tools.search.build import build_lexical_index

    page = PageRecord(url="returns/start/", title="Start a return", html="<p>Pack the kettle in its box.</p>",
                      lang="en")  # fmt: skip
    build_lexical_index([page], [], site / "build" / "index")
    monkeypatch.chdir(tmp_path)  # not the project folder: -f alone says where everything is
    result = kb("search", "kettle box", "--mode", "lexical", "-f", str(site / "mkdocs.yml"))
    assert result.exit_code == 0, result.output
    assert " 1. Start a return\n    returns/start/\n" in result.output
    # The flag still wins over mkdocs.yml.
    elsewhere = kb("search", "kettle", "--mode", "lexical", "-f", str(site / "mkdocs.yml"),
                   "--index", str(tmp_path / "none"))  # fmt: skip
    assert elsewhere.exit_code == 1 and elsewhere.output.startswith("Error: ")
    # Flags that name every folder the command needs: mkdocs.yml is not even read.
    write(tmp_path, "mkdocs.yml", "site_name: [broken\n")
    flagged = kb("search", "kettle box", "--mode", "lexical", "--index", str(site / "build" / "index"))
    assert flagged.exit_code == 0 and " 1. Start a return\n" in flagged.output
    assert kb("search", "kettle box").output.startswith("Error: mkdocs.yml: cannot be read: ")


def test_kb_serve_reads_site_and_index_dir_from_mkdocs_yml(site: Path, monkeypatch) -> None:  # noqa: ANN001
    from types import SimpleNamespace

    from kb_tools.service import connections

    served = []  # the settings kb serve would run with (the server itself is not started)
    monkeypatch.setattr(connections, "server", lambda app, settings, **kwargs: SimpleNamespace(
        run=lambda: served.append(app.state.service.settings)))
    monkeypatch.delenv("KB_INDEX_DIR", raising=False)
    monkeypatch.delenv("KB_SITE_DIR", raising=False)
    (site / "public").mkdir()
    assert kb("serve", "-f", str(site / "mkdocs.yml")).exit_code == 0
    assert (served[-1].site_dir, served[-1].index_dir) == (site.resolve() / "public", site.resolve() / "build" / "index")
    # The environment wins over mkdocs.yml, and a flag over both.
    monkeypatch.setenv("KB_INDEX_DIR", str(site / "env-index"))
    assert kb("serve", "-f", str(site / "mkdocs.yml"), "--site-dir", str(site / "flag-site")).exit_code == 0
    assert (served[-1].site_dir, served[-1].index_dir) == (site / "flag-site", site / "env-index")


def test_without_mkdocs_yml_the_defaults_apply_here_but_a_named_file_must_exist(tmp_path: Path,
                                                                                monkeypatch) -> None:  # noqa: ANN001  # fmt: skip
    monkeypatch.chdir(tmp_path)
    project = Project.load(required=False)
    assert (project.config_file, project.index_dir) == (None, tmp_path.resolve() / "search_index")
    missing = kb("search", "kettle", "-f", "shop/mkdocs.yml")
    assert (missing.exit_code, missing.output) == (
        1, "Error: shop/mkdocs.yml: no such file: run kb in the folder of mkdocs.yml or pass -f path/to/mkdocs.yml\n")
    assert kb("check").output.startswith("Error: mkdocs.yml: no such file")  # kb check needs the project


def test_old_option_spellings_still_work_with_a_warning(site: Path) -> None:
    result = kb("check", "--config", str(site / "mkdocs.yml"))
    assert result.exit_code == 0
    assert "warning: --config FILE is deprecated: use -f path/to/mkdocs.yml" in result.output
    assert "0 errors, 0 warnings in 1 articles" in result.output
    assert kb("check", "--project-dir", str(site)).exit_code == 0


@pytest.mark.parametrize(("args", "env"), [
    (["check"], {}),
    (["search", "kettle", "--index", "no-index-here"], {}),
    (["serve"], {"KB_RATE_LIMIT": "fast"}),
    (["videos", "-f", "no/mkdocs.yml"], {}),
    (["report", "--db", "sqlite:///no-store-here.db"], {}),
    (["calls", "import", "no-such-log.csv", "--db", "sqlite:///calls.db"], {}),
])
def test_every_command_prints_errors_the_same_way(args: list[str], env: dict, tmp_path: Path,
                                                  monkeypatch) -> None:  # noqa: ANN001  # fmt: skip
    monkeypatch.chdir(tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ") and result.stderr.count("Error: ") == 1, result.stderr
    assert "Traceback" not in result.output


def test_the_report_reads_articles_and_videos_from_the_projects_folders(site: Path) -> None:
    from kb_tools.analytics.project import read_content

    write(site, "mkdocs.yml", (
        "site_name: Shop help\ndocs_dir: articles\nuse_directory_urls: false\n"
        "plugins:\n  - kb:\n      languages: [en, bn]\n      videos_dir: media\n      search: false\n"
    ))  # fmt: skip
    write(site, "articles/bn/returns/start.md", "---\ntitle: ফেরত শুরু করুন\ncontact_topic: returns\n---\n")
    write(site, "articles/returns/README.md", "---\ntitle: Returns\n---\n")
    write(site, "media/start-a-return.yml", "title: How to start a return\ncontact_topic: returns\n")
    items = {i["key"]: (i["kind"], i["url"], i["lang"], i["title"]) for i in read_content(Project.load(site / "mkdocs.yml"))}
    assert items == {
        "/returns/start.html": ("article", "/returns/start.html", "en", "Start a return"),
        "/returns/index.html": ("article", "/returns/index.html", "en", "Returns"),
        "/bn/returns/start.html": ("article", "/bn/returns/start.html", "bn", "ফেরত শুরু করুন"),
        "start-a-return": ("video", "/videos/start-a-return.html", "en", "How to start a return"),
    }
