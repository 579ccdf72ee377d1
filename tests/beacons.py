"""What a page sends with navigator.sendBeacon, for browser tests: Playwright sees a beacon's
request and response but not its Blob body. Add `BEACONS` with `page.add_init_script`; the
bodies collect, as text, in `window.__beacons`."""

BEACONS = """
(() => {
  window.__beacons = [];
  const send = navigator.sendBeacon.bind(navigator);
  navigator.sendBeacon = (url, data) => { data.text().then((t) => window.__beacons.push(t)); return send(url, data); };
})();
"""
