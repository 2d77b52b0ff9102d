"""The app as analysts see it: `streamlit run app.py` in a subprocess, every page in headless Chromium.

Checks what AppTest cannot: that the pages render in a real browser without an exception or error
box, that search results appear, and that text from a document or a query which looks like HTML or
markdown (``<script>``, ``**bold**``, ``[link](javascript:x)``) is shown as text — no element, no link,
no dialog. The plan in the private data folder is the real one with such text put into task 74.
Screenshots go to tests/artifacts/screenshots/; with POLICYKG_UPDATE_SCREENSHOTS=1 they replace the
ones in docs/screenshots/ that the README shows (a test run leaves the working tree clean).

Uses the Debian Chromium at /usr/bin/chromium (CI installs it with apt-get); never downloads browsers.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from policykg.build import Build
from policykg.config import Config
from tests.conftest import PLAN_FILE, copy_data, free_port, serving

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / ("docs/screenshots" if os.environ.get("POLICYKG_UPDATE_SCREENSHOTS") else "tests/artifacts/screenshots")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
INJECTED = "<script>alert(1)</script> **bold** [link](javascript:x) "
NASTY_QUERY = "<img src=x onerror=alert(1)> **粗体** [链接](javascript:alert(2)) 川渝"
ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing (install it with `apt-get install chromium`)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def data_with_markup(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real plan, with HTML and markdown put into the text of task 74, and the annual reports, built once."""
    data = copy_data(tmp_path_factory.mktemp("browserdata"), reports=True)
    plan = data / "plans" / PLAN_FILE.name
    text = plan.read_text(encoding="utf-8")
    anchor = "74．加强中国特色社会主义法治"
    assert text.count(anchor) == 1, "the plan changed; pick another anchor for the injected text"
    plan.write_text(text.replace(anchor, anchor + INJECTED, 1), encoding="utf-8")
    stages: list[tuple[str, float]] = []
    b = Build.open(Config(data_dir=data), progress=lambda stage, fraction: stages.append((stage, fraction)))
    assert INJECTED in b.plans[0].tasks[-1].text
    # the app's progress bar maps the library's stages onto one bar that never goes back
    from policykg.app_pages.common import _overall

    values = [_overall(stage, fraction)[0] for stage, fraction in stages]
    assert values == sorted(values) and values[-1] == 1.0, list(zip(stages, values, strict=True))
    return data


@pytest.fixture(scope="module")
def server(data_with_markup: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "POLICYKG_DATA": str(data_with_markup)}
    env.pop("POLICYKG_BUILD", None)
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none", "--client.toolbarMode", "minimal"]
    with serving(cmd, probe=f"{url}/_stcore/health", ready=lambda body: body.strip() == b"ok",
                 log=data_with_markup / "streamlit.log", what="streamlit", cwd=ROOT, env=env):
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    pg = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    yield pg
    assert not dialogs, f"a script ran in the page and opened a dialog: {dialogs}"
    pg.close()


def _open(page: Any, url: str, ready: str, *, timeout: float = 90_000) -> None:
    """Go to ``url`` and wait until ``ready`` is visible and the script run has finished."""
    page.goto(url)
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=timeout)
    page.wait_for_selector(ready, timeout=timeout)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout
    )


PAGES = [
    # (name, path, element that shows the page is complete, seconds to let charts settle)
    ("overview", "/", '[data-testid="stDataFrame"]', 1.0),
    ("search", "/search?q=" + quote("川渝协同"), "text=匹配依据", 0.5),
    ("task", "/task?task=22", "canvas", 3.0),
    ("unit", "/unit?name=" + quote("区司法局"), '[data-testid="stTab"]', 1.0),
    ("network", "/network", "canvas", 4.0),
    ("deadlines", "/deadlines?unit=" + quote("区司法局"), '[data-testid="stVegaLiteChart"]', 1.5),
    ("progress", "/progress?task=40&year=2022", '[data-testid="stVegaLiteChart"]', 1.5),
    ("sparql", "/sparql?query=units-by-type", '[data-testid="stVegaLiteChart"]', 1.5),
]


@pytest.mark.parametrize(("name", "path", "ready", "settle"), PAGES, ids=[p[0] for p in PAGES])
def test_page_renders_without_errors(server: str, page: Any, name: str, path: str, ready: str,
                                     settle: float) -> None:
    _open(page, server + path, ready)
    time.sleep(settle)  # force layouts and chart transitions, for the screenshot
    errors = page.locator(ERRORS)
    assert errors.count() == 0, errors.all_inner_texts()
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / f"{name}.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000


def test_search_results_appear(server: str, page: Any) -> None:
    _open(page, server + "/search?q=" + quote("川渝协同"), "text=匹配依据")
    sync_api.expect(page.locator("text=匹配依据")).to_have_count(10, timeout=30_000)
    main = page.locator('[data-testid="stMain"]').inner_text()
    for number in ("任务 3", "任务 11", "任务 22"):
        assert number in main
    # unit names link to the unit page with the unit in the URL
    link = page.locator('a[href*="unit?name="]').first
    assert "unit?name=" in link.get_attribute("href")


def test_document_markup_is_shown_as_text(server: str, page: Any) -> None:
    _open(page, server + "/task?task=74", "canvas")
    main = page.locator('[data-testid="stMain"]')
    text = main.inner_text()
    assert "<script>alert(1)</script>" in text, "the tag is shown as text"
    assert "**bold**" in text and "[link](javascript:x)" in text, "markdown is shown as typed"
    assert main.locator("script").count() == 0
    assert main.locator("strong", has_text="bold").count() == 0
    assert page.locator('a[href^="javascript"]').count() == 0
    assert page.locator(ERRORS).count() == 0


def test_markup_in_search_results_and_queries_is_inert(server: str, page: Any) -> None:
    _open(page, server + "/search?q=" + quote(NASTY_QUERY), "text=匹配依据")
    assert page.locator(ERRORS).count() == 0
    assert page.locator('img[src="x"]').count() == 0
    assert page.locator('a[href^="javascript"]').count() == 0
    _open(page, server + "/search?q=" + quote("法治政府理论研究 宣传"), "text=匹配依据")
    main = page.locator('[data-testid="stMain"]')
    assert "<script>alert(1)</script>" in main.inner_text(), "task 74 is found and its text shown literally"
    assert main.locator("script").count() == 0


def test_clicking_a_network_node_shows_its_details(server: str, page: Any) -> None:
    _open(page, server + "/network", "canvas")
    time.sleep(3)  # let the force layout settle
    box = page.locator("canvas").first.bounding_box()
    detail = page.locator("text=打开单位页")
    assert detail.count() == 0, "no unit is selected before a click"
    # the biggest units sit near the middle of the layout; try a small grid of points there
    for dx in range(-60, 61, 20):
        for dy in range(-60, 61, 20):
            page.mouse.click(box["x"] + box["width"] / 2 + dx, box["y"] + box["height"] / 2 + dy)
            try:
                detail.wait_for(timeout=1500)
            except sync_api.TimeoutError:
                continue
            href = page.locator('a[href*="unit?name="]', has_text="打开单位页").get_attribute("href")
            assert href and "unit?name=" in href
            assert page.locator(ERRORS).count() == 0
            return
    pytest.fail("no click on the network selected a unit")
