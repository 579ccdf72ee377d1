"""What kb costs a shopper's browser: Lighthouse and axe-core on the sample help center built
with kb, next to a plain Material build of the same pages, both served as static files on
127.0.0.1.

    .venv/bin/python -m bench.bench_pages [--runs 3] [--pages "video page"]

"The same pages": the kb build dumps every page's final Markdown (policy facts substituted,
video embeds rendered, the generated video pages included) through a MkDocs hook that runs
after every plugin; the plain build is Material + its search plugin over exactly that Markdown
(and the same video files). What differs is what kb adds: its CSS/JS, per-language `lang`,
navigation and alternates, the feedback box, the video player. Each build's `site_url` is the
address it is served at (as in production), so absolute URLs stay on the same origin.

Lighthouse (npm, package.json) runs against Debian's Chromium with the flags of
tests/conftest.py, mobile form factor with simulated throttling, median of `--runs` runs,
ours and plain alternating (the kb − plain row also gives the median of each kb run minus
the plain run right after it); the FCP column also gives the fastest and slowest run, because on a
busy machine one page's simulated FCP moves by ±0.2 s from run to run (the simulation replays
the CPU time the page took in the real load). axe-core (npm) is injected with Playwright into the same Chromium;
the count is serious + critical violations (nodes). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from bench.search_common import WORK as SEARCH_WORK
from bench.search_common import project_copy, table
from tests.conftest import CHROMIUM_ARGS, CHROMIUM_PATH
from tests.servers import serve_folder

ROOT = Path(__file__).resolve().parent.parent
WORK = SEARCH_WORK.parent / "pages"
NODE_MODULES = ROOT / "node_modules"
LIGHTHOUSE = NODE_MODULES / "lighthouse" / "cli" / "index.js"
AXE = NODE_MODULES / "axe-core" / "axe.min.js"

PAGES = {
    "home": "",
    "article": "shipping/delivery-times/",
    "Bengali article": "bn/returns/return-policy/",
    "video page": "videos/start-a-return/",
}
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")

# Runs after every plugin's on_page_markdown: writes the Markdown MkDocs is about to render.
DUMP_HOOK = '''
from pathlib import Path
import yaml
from mkdocs.plugins import event_priority

OUT = Path(__file__).parent / "rendered-markdown"

@event_priority(-100)
def on_page_markdown(markdown, page, config, files):
    target = OUT / page.file.src_uri
    target.parent.mkdir(parents=True, exist_ok=True)
    head = yaml.safe_dump({"title": page.meta["title"]}, allow_unicode=True) if page.meta.get("title") else ""
    target.write_text(("---\\n" + head + "---\\n\\n" if head else "") + markdown, encoding="utf-8")
    return markdown
'''


def with_site_url(text: str, site_url: str) -> str:
    return re.sub(r"(?m)^site_url:.*$", f"site_url: {site_url}", text)


def build_ours(site_url: str) -> Path:
    project = project_copy("pages-ours")
    shutil.rmtree(project / "rendered-markdown", ignore_errors=True)
    (project / "dump_markdown.py").write_text(DUMP_HOOK, encoding="utf-8")
    config = (project / "mkdocs.yml").read_text(encoding="utf-8")
    config = with_site_url(config, site_url)
    (project / "mkdocs.yml").write_text(config + "\nhooks:\n  - dump_markdown.py\n", encoding="utf-8")
    run_mkdocs(project)
    return project


def build_plain(ours: Path, site_url: str) -> Path:
    plain = WORK / "plain"
    shutil.rmtree(plain, ignore_errors=True)
    docs = plain / "docs"
    shutil.copytree(ours / "rendered-markdown", docs)
    for path in (ours / "docs").rglob("*"):  # images and other static files of the docs
        if path.is_file() and path.suffix != ".md":
            dest = docs / path.relative_to(ours / "docs")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest)
    for path in (ours / "site" / "videos").rglob("*"):  # the processed video files and posters
        if path.is_file() and path.suffix not in (".html", ".md"):
            dest = docs / "videos" / path.relative_to(ours / "site" / "videos")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest)
    text = (ours / "mkdocs.yml").read_text(encoding="utf-8")
    start, end = text.index("\nplugins:"), text.index("\nmarkdown_extensions:")
    text = text[:start] + "\nplugins:\n  - search\n" + text[end:]
    text = with_site_url(text.split("\nhooks:")[0], site_url)
    (plain / "mkdocs.yml").write_text(text, encoding="utf-8")
    run_mkdocs(plain)
    return plain


def run_mkdocs(project: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build"], cwd=project, capture_output=True, text=True,
        env={**os.environ, "KB_PROGRESS": "0"},
    )
    if result.returncode:
        sys.exit(f"mkdocs build failed in {project}:\n{result.stderr[-3000:]}")


def lighthouse(url: str) -> dict[str, float]:
    flags = " ".join(a for a in CHROMIUM_ARGS if a != "--headless") + " --headless=new"
    result = subprocess.run(
        ["node", str(LIGHTHOUSE), url, "--output=json", "--output-path=stdout", "--quiet",
         f"--only-categories={','.join(CATEGORIES)}", f"--chrome-flags={flags}"],
        capture_output=True, text=True, env={**os.environ, "CHROME_PATH": CHROMIUM_PATH}, timeout=300,
    )
    if result.returncode:
        sys.exit(f"lighthouse failed on {url}:\n{result.stderr[-3000:]}")
    report = json.loads(result.stdout)
    scores = {c: round(100 * (report["categories"][c]["score"] or 0)) for c in CATEGORIES}
    scores["fcp"] = report["audits"]["first-contentful-paint"]["numericValue"] / 1000
    # What holds back the first paint, whatever the load: the render-blocking requests.
    blocking = (report["audits"].get("render-blocking-resources", {}).get("details") or {}).get("items", [])
    scores["blocking"] = len(blocking)
    scores["failed"] = sorted(  # audits that cost points, for the notes under the table
        f"{c}:{ref['id']}"
        for c in ("best-practices", "seo", "accessibility")
        for ref in report["categories"][c]["auditRefs"]
        if ref.get("weight") and (report["audits"][ref["id"]].get("score") not in (None, 1))
    )
    return scores


def axe_counts(browser, url: str) -> tuple[int, list[str]]:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        page.goto(url, wait_until="load")
        page.add_script_tag(path=str(AXE))
        violations = page.evaluate("axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)")
    finally:
        page.close()
    bad = [v for v in violations if v["impact"] in ("serious", "critical")]
    return sum(len(v["nodes"]) for v in bad), sorted(f"{v['id']} ({len(v['nodes'])})" for v in bad)


def fcp_cell(median: float, values: list[float]) -> str:
    return f"{median:.2f} ({min(values):.2f}–{max(values):.2f})" if len(values) > 1 else f"{median:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per page and build (median)")
    parser.add_argument("--pages", nargs="+", choices=list(PAGES), default=list(PAGES), metavar="PAGE",
                        help=f"only these pages (default: all of {', '.join(PAGES)})")
    args = parser.parse_args()
    for needed in (LIGHTHOUSE, AXE):
        if not needed.is_file():
            sys.exit(f"{needed} is missing: run `make install` (npm ci) first")
    WORK.mkdir(parents=True, exist_ok=True)
    sites = {"ours": SEARCH_WORK / "pages-ours" / "site", "plain": WORK / "plain" / "site"}

    from playwright.sync_api import sync_playwright

    rows, notes = [], []
    with serve_folder(sites["ours"]) as ours_url, serve_folder(sites["plain"]) as plain_url, \
            sync_playwright() as p:
        print("building the sample with kb, then plain Material over the same Markdown...", file=sys.stderr)
        build_plain(build_ours(ours_url + "/"), plain_url + "/")
        browser = p.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
        bases = {"ours": ours_url, "plain": plain_url}
        for label in args.pages:
            path = PAGES[label]
            runs: dict[str, list[dict]] = {"ours": [], "plain": []}
            for _ in range(args.runs):
                for name in ("ours", "plain"):  # alternate, so load on the machine hits both alike
                    runs[name].append(lighthouse(f"{bases[name]}/{path}"))
                    print(f"  {label} {name}: {runs[name][-1]}", file=sys.stderr)
            med = {name: {k: statistics.median(r[k] for r in runs[name]) for k in (*CATEGORIES, "fcp", "blocking")}
                   for name in runs}
            axe = {name: axe_counts(browser, f"{bases[name]}/{path}") for name in runs}
            for name in runs:
                rows.append([
                    f"{label} (`/{path}`)" if name == "ours" else "", "kb" if name == "ours" else "plain Material",
                    round(med[name]["performance"]), fcp_cell(med[name]["fcp"], [r["fcp"] for r in runs[name]]),
                    round(med[name]["best-practices"]), round(med[name]["seo"]),
                    round(med[name]["accessibility"]), axe[name][0], round(med[name]["blocking"]),
                ])
                failed = sorted({a for r in runs[name] for a in r["failed"]})
                if failed or axe[name][1]:
                    notes.append(f"- {label}, {name}: Lighthouse {', '.join(failed) or '—'}; "
                                 f"axe {', '.join(axe[name][1]) or '—'}")
            fcp_gap = med["ours"]["fcp"] - med["plain"]["fcp"]
            # Each kb run next to the plain run right after it: the load the two met was alike.
            paired = statistics.median(o["fcp"] - q["fcp"] for o, q in zip(runs["ours"], runs["plain"], strict=True))
            rows.append(["", "kb − plain", "", f"{fcp_gap:+.2f} (paired runs: {paired:+.2f})", "", "", "", "", ""])
        browser.close()
    print(table(["page", "build", "performance", "FCP s (fastest–slowest)", "best practices", "SEO", "accessibility",
                 "axe serious+critical", "render-blocking requests"], rows))
    if notes:
        print("\nAudits that cost points (any run) and axe's serious/critical rules (nodes):\n")
        print("\n".join(notes))


if __name__ == "__main__":
    main()
