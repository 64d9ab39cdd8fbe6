"""`viewer.html`: the release's items in one self-contained page (no network, no CDN, works from `file://`).

The items are embedded in the page as gzip-compressed JSON (base64), which the browser unpacks with its built-in
DecompressionStream; the page shows 50 at a time and filters in memory, so it stays responsive at tens of thousands
of records.
"""

from __future__ import annotations

import base64
import gzip
import html
import json
from importlib import resources
from pathlib import Path

from corrigenda.atomic import write_text
from corrigenda.emit.view import ViewItem, load_view

VIEWER_FILE = "viewer.html"


def render_viewer(items: list[ViewItem], title: str) -> str:
    template = resources.files("corrigenda.emit").joinpath("viewer_template.html").read_text(encoding="utf-8")
    data = json.dumps([item.as_json() for item in items], ensure_ascii=False, separators=(",", ":"))
    # gzip (mtime 0: the same items give the same page) in base64, which holds nothing that could end the script block
    packed = base64.b64encode(gzip.compress(data.encode("utf-8"), compresslevel=6, mtime=0)).decode("ascii")
    return template.replace("__TITLE__", html.escape(title)).replace("__DATA__", packed)


def write_viewer(release: Path, title: str) -> Path:
    """Reads the release's files (written just before) and writes the page beside them."""
    path = release / VIEWER_FILE
    write_text(path, render_viewer(load_view(release), title))
    return path
