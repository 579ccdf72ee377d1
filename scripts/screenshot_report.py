"""Screenshot the deflection dashboard on demo traffic for the README.

    .venv/bin/python scripts/screenshot_report.py [--out examples/screenshots/report.png]

Runs `kb demo-traffic` into a temporary SQLite store, `kb report` from it, and photographs the
page with Debian's headless Chromium through Playwright (no browser download).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "examples" / "screenshots" / "report.png")
    ap.add_argument("--width", type=int, default=1400)
    ap.add_argument("--full-page", action="store_true", help="the whole page, not the first screen")
    ap.add_argument("--report-dir", type=Path, help="an existing report folder to photograph instead")
    args = ap.parse_args()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    with tempfile.TemporaryDirectory() as tmp:
        report_dir = args.report_dir
        if report_dir is None:
            db = f"sqlite:///{tmp}/analytics.db"
            report_dir = Path(tmp) / "report"
            cli = [sys.executable, "-m", "kb_tools.analytics.cli"]
            subprocess.run([*cli, "demo-traffic", "--db", db, "--replace"], check=True, env=env)
            subprocess.run([*cli, "report", "--db", db, "--out", str(report_dir)], check=True, env=env)
        from playwright.sync_api import sync_playwright

        args.out.parent.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": args.width, "height": 1300}, device_scale_factor=1)
            page.goto((report_dir / "index.html").resolve().as_uri())
            page.screenshot(path=str(args.out), full_page=args.full_page)
            browser.close()
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
