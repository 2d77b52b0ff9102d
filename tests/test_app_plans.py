"""The app's SPARQL page over a build of two plans: a canned query can be limited to one of them."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from graph.namespaces import plan_iri
from policykg.build import build
from policykg.config import Config
from tests.conftest import copy_data
from tests.test_many_plans import YONGCHUAN, yongchuan_text

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def test_the_sparql_page_limits_a_canned_query_to_the_chosen_plan(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    data = copy_data(tmp_path / "data")
    (data / "plans" / "chongqing-yongchuan-2021-2025-draft.txt").write_text(yongchuan_text(), encoding="utf-8")
    build(Config(data_dir=data), with_search=False)
    monkeypatch.setenv("POLICYKG_DATA", str(data))
    monkeypatch.delenv("POLICYKG_BUILD", raising=False)

    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("policykg/app_pages/sparql.py")
    at.query_params["query"] = "unit-workload"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    everyone = at.dataframe[0].value
    assert any("bishan" in u for u in everyone["unit"]) and any("yongchuan" in u for u in everyone["unit"])

    at.multiselect(key="q_plans").set_value([YONGCHUAN])
    at.run()
    assert f"VALUES ?plan {{ <{plan_iri(YONGCHUAN)}> }}" in at.text_area(key="q_text").value
    units = at.dataframe[0].value["unit"]
    assert len(units) > 0 and all("/gov/chongqing-yongchuan/" in u for u in units)
    assert "text" in at.query_params  # the limited query is in the URL, so the page can be shared
