"""The 落实情况 page (issue #15) in AppTest, on a data folder with the Bishan plan and its 2022/2023 reports.

Expected answers come from the build's records (``Build.reports``, ``analysis.progress``), never from
the page under test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analysis.progress import task_progress
from policykg.build import Build
from policykg.config import Config
from tests.conftest import ROOT, copy_data

APP = str(ROOT / "app.py")
PAGE = "policykg/app_pages/progress.py"
TIMEOUT = 180


@pytest.fixture(scope="module")
def follow_data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    data = copy_data(tmp_path_factory.mktemp("followapp"), reports=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("POLICYKG_DATA", str(data))
        mp.delenv("POLICYKG_BUILD", raising=False)
        at = AppTest.from_file(APP, default_timeout=TIMEOUT)
        at.run()  # the first open builds
        assert not at.exception, [e.value for e in at.exception]
        yield data


def open_page(**params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page(PAGE)
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_heat_map_page_counts_agree_with_the_records(follow_data: Path) -> None:
    b = Build.open(Config(data_dir=follow_data), auto_build=False)
    links = [lk for _r, _p, lks in b.reports for lk in lks]
    rows = task_progress(b.plans, links, as_of=dt.date(2026, 6, 30))
    at = open_page(asof="2026-06-30")
    m = metrics(at)
    assert m["任务"] == "74"
    assert m["有落实佐证"] == str(sum(r.status == "reported" for r in rows))
    assert m["逾期未报告"] == str(sum(r.status == "overdue-unreported" for r in rows)) != "0"
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")


def test_a_cell_in_the_url_opens_its_statements(follow_data: Path) -> None:
    at = open_page(task="40", year="2022")
    text = " ".join(m.value for m in at.markdown)
    assert "加强行政调解" in text and "2022年" in text
    assert at.query_params["task"] == "40" and at.query_params["year"] == "2022"
    # the same task in a year whose report says nothing about it
    at = open_page(task="40", year="2023")
    assert any("2023年度报告中没有佐证" in i.value for i in at.info)


def test_unit_and_chapter_filters_narrow_the_tasks(follow_data: Path) -> None:
    b = Build.open(Config(data_dir=follow_data), auto_build=False)
    plan = b.plans[0]
    expected = [t for t in plan.tasks if t.chapter == 6 and any("区应急局" == n for n in (*t.lead_units, *t.responsible_units))]
    at = open_page(unit="区应急局", chapter="6")
    assert metrics(at)["任务"] == str(len(expected)) and expected
    assert at.query_params["unit"] == "区应急局"


def test_the_task_page_shows_what_the_reports_say(follow_data: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page("policykg/app_pages/task.py")
    at.query_params["task"] = "40"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    text = " ".join(m.value for m in at.markdown)
    assert "落实佐证" in text and "2022年" in text and "加强行政调解" in text
