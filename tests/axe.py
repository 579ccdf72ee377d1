"""axe-core (npm, package.json; `make install` runs npm ci) in a Playwright page."""

from __future__ import annotations

from tests.projects import ROOT

AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"

AXE_RUN = """(within) => axe.run(document, {resultTypes: ['violations']}).then(r => {
  // The element of an axe target: one selector per shadow root on the way down.
  const find = (target) => {
    let root = document, el = null;
    for (const sel of [].concat(target[0])) { el = root.querySelector(sel); root = el && el.shadowRoot; if (!el) break; }
    return el;
  };
  const inside = (el) => {
    for (let n = el; n; n = n.parentNode || n.host) if (n.matches && n.matches(within)) return true;
    return false;
  };
  return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').flatMap(v =>
    v.nodes.filter(n => !within || inside(find(n.target)))
      .map(n => `${v.id} (${v.impact}): ${JSON.stringify(n.target)}: ${(n.failureSummary || '').slice(0, 200)}`));
})"""


def axe_serious(page, within: str | None = None) -> list[str]:
    """axe-core's serious and critical violations on a Playwright page (open shadow roots
    included), one line per element; with `within` (a CSS selector), only those inside a
    matching element."""
    assert AXE_JS.is_file(), f"{AXE_JS} is missing: run `make install` (npm ci)"
    # Evaluated through the browser's DevTools protocol rather than added as a <script>: the
    # pages kb serve sends have a Content-Security-Policy that refuses inline scripts.
    page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    return page.evaluate(AXE_RUN, within)
