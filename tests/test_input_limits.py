"""Issue 11, finding 8: crafted input cannot make memory grow without bound.

- YAML aliases ("billion laughs": 500 bytes that expand to hundreds of millions of values) are
  refused with `path:line` wherever we read YAML: front matter (also inside `mkdocs build`,
  where MkDocs parses it too), policy facts, video sidecars, `kb report`.
  Each run is a separate process with a 3 GB address-space limit, so a regression fails the
  test instead of taking the machine down.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.projects import copy_project

KB = Path(sys.executable).with_name("kb")
LIMIT = 3 * 1024**3

# 9 levels of 9 references: 9**9 = 387,420,489 strings once expanded.
BOMB = "\n".join(
    ['lol0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [f"lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 9)]
)


def limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, preexec_fn=limited, timeout=900,
                          env={**os.environ, "KB_PROGRESS": "0"})


def small_project(root: Path) -> Path:
    (root / "docs" / "returns").mkdir(parents=True)
    (root / "mkdocs.yml").write_text(textwrap.dedent("""\
        site_name: Limits
        theme:
          name: material
          font: false
        plugins:
          - kb:
              search: false
              categories:
                returns: Returns
        """), encoding="utf-8")
    (root / "docs" / "index.md").write_text("---\ntitle: Help\n---\n# Help\n", encoding="utf-8")
    (root / "docs" / "returns" / "policy.md").write_text(
        "---\ntitle: Return policy\ncategory: returns\ncontact_topic: returns\n---\n# Return policy\n\nSend it back.\n",
        encoding="utf-8")
    return root


def bomb_front_matter(root: Path) -> str:
    (root / "docs" / "returns" / "bomb.md").write_text(
        f"---\n{BOMB}\ntitle: *l8\n---\n# Bomb\n", encoding="utf-8")
    return "docs/returns/bomb.md:"


def assert_refused(result: subprocess.CompletedProcess, where: str) -> None:
    out = result.stdout + result.stderr
    assert "MemoryError" not in out and "Traceback" not in out, out[-3000:]
    assert where in out and "alias" in out, out[-3000:]


def test_front_matter_alias_bomb_fails_kb_check_with_its_line(tmp_path: Path) -> None:
    project = small_project(tmp_path)
    where = bomb_front_matter(project)
    result = run([str(KB), "check", "-f", "mkdocs.yml"], project)
    assert result.returncode == 1
    assert_refused(result, where)


def test_front_matter_alias_bomb_is_kept_out_of_mkdocs_build(tmp_path: Path) -> None:
    """MkDocs parses front matter itself and prints the title in every template: the page is
    read without its front matter (the build's memory stays small), the problem is reported,
    and, an error, it fails the build with or without --strict and publishes nothing."""
    project = small_project(tmp_path)
    where = bomb_front_matter(project)
    for args in ([], ["--strict"]):
        result = run([sys.executable, "-m", "mkdocs", "build", *args], project)
        assert result.returncode == 1, result.stderr[-3000:]
        assert_refused(result, where)
        assert not (project / "site").exists()


def test_policy_facts_alias_bomb_is_refused(tmp_path: Path) -> None:
    project = small_project(tmp_path)
    (project / "policy.yml").write_text(BOMB + "\nreturns: *l8\n", encoding="utf-8")
    result = run([str(KB), "check", "-f", "mkdocs.yml"], project)
    assert result.returncode == 1
    assert_refused(result, "policy.yml:")
    result = run([sys.executable, "-m", "mkdocs", "build", "--strict"], project)
    assert result.returncode == 1
    assert_refused(result, "policy.yml:")


def test_video_sidecar_alias_bomb_is_refused(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    sidecar = next((project / "videos").glob("*.yml"))
    sidecar.write_text(BOMB + "\n" + sidecar.read_text(encoding="utf-8").replace("title:", "title: *l8\nold_title:", 1),
                       encoding="utf-8")
    result = run([str(KB), "check", "-f", "mkdocs.yml"], project)
    assert result.returncode == 1
    assert_refused(result, f"videos/{sidecar.name}:")


def test_kb_report_reads_a_bombed_article_without_blowing_up(tmp_path: Path) -> None:
    project = small_project(tmp_path / "project")
    bomb_front_matter(project)
    db = tmp_path / "a.db"
    result = run([str(KB), "demo-traffic", "--db", str(db), "--weeks", "5", "--scale", "0.05"], tmp_path)
    assert result.returncode == 0, result.stderr
    result = run([str(KB), "report", "--db", str(db), "--out", str(tmp_path / "report"), "--no-gaps",
                  "--project", str(project)], tmp_path)
    out = result.stdout + result.stderr
    assert "MemoryError" not in out and "Traceback" not in out, out[-3000:]
    if result.returncode:
        assert "docs/returns/bomb.md:" in out and "alias" in out, out[-3000:]
