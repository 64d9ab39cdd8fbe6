"""viewer.html in a real headless browser (Debian's chromium via playwright, no browser download): it loads from
file:// with no network, marks the masked span visibly apart from trained text, and its tabs, search and filters work,
also at 50,000 records. And `corrigenda show` marks the masked span in the terminal."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, offline_project

from corrigenda.cli import main
from corrigenda.emit.show import MASK_CLOSE, MASK_OPEN
from corrigenda.emit.view import FAILED, REJECTED, RELEASED, Part, ViewItem
from corrigenda.emit.viewer import render_viewer

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("viewer")
    out = root / "release"
    assert main(["build", str(offline_project(root)), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the test extra")
    if not Path(CHROMIUM).is_file():
        pytest.skip("no chromium at /usr/bin/chromium (apt-get install chromium; .ci/run installs it)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A page that fails the test on any script error and records every request that is not a local file."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.errors, page.remote = [], []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.route("**/*", lambda route: (page.remote.append(route.request.url), route.abort()))
    page.route("file://**", lambda route: route.continue_())
    yield page
    assert page.errors == [], page.errors
    assert page.remote == [], f"the viewer reached for the network: {page.remote}"
    page.close()


def _open(page, viewer: Path) -> None:
    """Open the page from file:// and wait until it has unpacked its items and drawn the tabs."""
    page.goto(viewer.as_uri())
    page.wait_for_selector("#tabs button")


def _background(png: bytes) -> tuple[int, ...]:
    """The most common colour of a screenshot that is not the page's white: the span's own background."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    colours = image.getcolors(image.width * image.height) or []
    return max((c for c in colours if min(c[1]) < 245), key=lambda c: c[0])[1]


def test_release_viewer_shows_every_conversation_with_the_masked_span_distinct(release, page):
    released = len(list((release / "axolotl_chat_template.jsonl").read_text().splitlines()))
    _open(page, release / "viewer.html")
    assert page.text_content("#count") == f"{released} of {released} shown"
    first = page.locator(".item").first
    assert first.locator(".masked").count() == 1  # exactly the flawed answer
    assert "Kennedy Space Center" in first.locator(".masked").text_content()
    assert "verify verdict" in first.text_content() and "apollo-11.jsonl" in first.text_content()
    first.locator("summary").click()
    assert "Apollo 11 launched" in first.locator(".chunk").text_content()  # the chunk the question came from
    masked = _background(first.locator(".masked").screenshot())
    trained = _background(first.locator(".trained").first.screenshot())
    assert sum(abs(a - b) for a, b in zip(masked, trained, strict=True)) > 30, (masked, trained)
    assert masked[0] > masked[1] and trained[1] > trained[0]  # reddish against greenish, on the real pixels

    page.select_option("#source", "../samples/magna-carta.pdf")  # a PDF's item names its page
    assert "Magna Carta · pages 1-1" in page.locator(".item").first.text_content()
    page.select_option("#source", "")

    page.click("text=Unsuitable (2)")
    assert page.text_content("#count") == "2 of 2 shown"
    assert "no checkable fact" in page.locator(".item").first.text_content()


def _synthetic(n: int) -> list[ViewItem]:
    """n items across statuses, sources and reasons, as a big release would hold them."""
    items = []
    for i in range(n):
        status = (RELEASED, RELEASED, REJECTED, FAILED)[i % 4]
        parts = [Part(f"Human: question {i}?\nAI:", False), Part(f" wrong {i}", True), Part(" right.\n", False)]
        reasons = [] if status == RELEASED else [f"{status} because rule {i % 3}"]
        items.append(
            ViewItem(
                f"doc{i % 7}.txt#{i}",
                status,
                f"doc{i % 7}.txt",
                chunk=f"chunk {i}",
                step="verify",
                reasons=reasons,
                parts=parts,
            )
        )
    return items


def test_tabs_search_and_filters_narrow_the_list(tmp_path, page):
    viewer = tmp_path / "viewer.html"
    odd = [
        ViewItem("x</script><b>", FAILED, reasons=["</script>"]),
        ViewItem("doc1.txt#99", FAILED, "doc1.txt", step="generate", reasons=["generate: no <correct_answer> tag"]),
    ]
    viewer.write_text(render_viewer([*_synthetic(40), *odd], "t"))
    _open(page, viewer)
    assert page.text_content("#count") == "20 of 20 shown"
    page.fill("#search", "question 12?")
    page.wait_for_function("document.getElementById('count').textContent === '1 of 20 shown'")
    page.fill("#search", "")
    page.wait_for_function("document.getElementById('count').textContent === '20 of 20 shown'")
    page.select_option("#source", "doc3.txt")
    assert page.text_content("#count") == f"{sum(1 for i in range(40) if i % 4 < 2 and i % 7 == 3)} of 20 shown"
    page.click("text=Rejected (10)")
    assert page.text_content("#count") == "10 of 10 shown"
    page.select_option("#reason", "rejected because rule #")
    assert page.text_content("#count") == "10 of 10 shown"
    page.click("text=Failed (12)")  # the id with a closing script tag did not break the page
    assert page.locator(".item", has_text="x</script><b>").count() == 1
    page.select_option("#step", "generate")
    assert page.text_content("#count") == "1 of 12 shown" and "no <correct_answer> tag" in page.text_content(".item")


def test_fifty_thousand_records_load_and_filter_a_page_at_a_time(tmp_path, page):
    viewer = tmp_path / "viewer.html"
    viewer.write_text(render_viewer(_synthetic(50_000), "big"))
    _open(page, viewer)
    assert page.text_content("#count") == "25000 of 25000 shown"
    assert page.locator(".item").count() == 50  # one page in the DOM, not 25,000 nodes
    page.click("#pager-top .next")
    assert "question 100?" in page.locator(".item").first.text_content()
    page.fill("#search", "question 49996?")
    page.wait_for_function("document.getElementById('count').textContent === '1 of 25000 shown'")


def test_show_marks_the_masked_span_and_lists_reasons(release, capsys):
    assert main(["show", str(release), "-n", "2"]) == 0
    out = capsys.readouterr().out
    assert out.count("[released]") == 2 and out.count(MASK_OPEN) == 2 and out.count(MASK_CLOSE) == 2
    flawed = out.split(MASK_OPEN, 1)[1].split(MASK_CLOSE, 1)[0]
    first = json.loads((release / "axolotl_correction_conversations.json").read_text(encoding="utf-8"))[0]
    assert [s["text"] for s in first["segments"] if not s["label"]] == [flawed]
    assert main(["show", str(release), "--rejected"]) == 0
    assert "no checkable fact" in capsys.readouterr().out
    item = "../samples/apollo-11.jsonl:2#0"
    assert main(["show", str(release), "--item", item]) == 0
    assert capsys.readouterr().out.startswith(f"=== {item} [released]")
    assert main(["show", str(release), "--item", "nope"]) == 2
    assert "no item 'nope'" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["show", "-n", "16"], ["diff"]])
def test_a_reader_that_stops_early_gets_no_traceback(release, command):
    """`corrigenda show OUT | head`: the pipe closes before the output is written."""
    args = [*command, str(release), str(release)] if command == ["diff"] else [command[0], str(release), *command[1:]]
    process = subprocess.Popen(
        [sys.executable, "-m", "corrigenda", *args],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    process.stdout.close()  # the reader is gone before the command has printed anything
    _, err = process.communicate(timeout=60)
    assert err == b"" and process.returncode == 141  # what a shell reports for a tool stopped by SIGPIPE
