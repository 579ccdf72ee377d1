"""The `/widget.js` bundle: the scripts the widget shares with the help site (the event client
kb_tools/assets/kb-events.js and the handoff kb-handoff.js) followed by the widget, with its
CSS and labels inlined so one request is enough."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from kb_tools.errors import ServiceError

PACKAGE = Path(__file__).resolve().parent.parent
WIDGET_DIR = PACKAGE / "widget"
ASSETS = PACKAGE / "assets"
SHARED = (ASSETS / "kb-events.js", ASSETS / "kb-handoff.js")

CSS_MARK = '"__KB_WIDGET_CSS__"'
LABELS_MARK = '"__KB_WIDGET_LABELS__"'


@dataclass(frozen=True)
class WidgetBundle:
    body: bytes
    sources: tuple[Path, ...]


def build_widget(widget_dir: Path = WIDGET_DIR, shared: tuple[Path, ...] = SHARED) -> WidgetBundle:
    js_path, css_path, labels_path = (widget_dir / "widget.js", widget_dir / "widget.css",
                                      widget_dir / "labels.json")
    for p in (*shared, js_path, css_path, labels_path):
        if not p.is_file():
            raise ServiceError(f"widget file '{p}' is missing: reinstall kb-tools (pip install -e .)")
    js = js_path.read_text(encoding="utf-8")
    if CSS_MARK not in js or LABELS_MARK not in js:
        raise ServiceError(f"'{js_path}' lacks the {CSS_MARK} / {LABELS_MARK} placeholders")
    try:
        labels = json.loads(labels_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ServiceError(f"{labels_path}:{e.lineno}: invalid JSON: {e.msg}") from None
    # json.dumps gives a valid JS string literal; "</" is escaped so the bundle can be inlined.
    css = json.dumps(css_path.read_text(encoding="utf-8")).replace("</", "<\\/")
    js = js.replace(CSS_MARK, css).replace(LABELS_MARK, json.dumps(labels, ensure_ascii=False))
    parts = [p.read_text(encoding="utf-8") for p in shared] + [js]
    return WidgetBundle(";\n".join(parts).encode("utf-8"), (*shared, js_path, css_path, labels_path))
