"""`policykg workload` and `policykg findings` end to end, on the session's temporary build."""

from __future__ import annotations

import json

import pytest

from policykg.cli import main


@pytest.fixture
def run(built, config, capsys):
    """Run the CLI against the temporary build; return (exit code, stdout)."""

    def go(*argv: str) -> tuple[int, str]:
        code = main([*argv, "--data", str(config.data_dir), "--build-dir", str(config.build)])
        return code, capsys.readouterr().out

    return go


def test_workload_json(run) -> None:
    code, out = run("workload", "--top", "3", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["weights"] == {"lead": 3.0, "responsible": 2.0, "participating": 1.0}
    assert report["include_collectives"] is True and report["tasks"] == 74
    assert [u["unit"] for u in report["units"]] == ["各镇人民政府、街道办事处", "区政府有关部门", "区司法局"]
    assert report["units"][2]["load"] == 82.0


def test_workload_options(run) -> None:
    code, out = run("workload", "--no-collectives", "--weights", "1,0,0", "--top", "2", "--json", "--communities")
    assert code == 0
    report = json.loads(out)
    assert report["include_collectives"] is False
    assert [(u["unit"], u["load"]) for u in report["units"]] == [("区司法局", 26.0), ("区政府办公室", 14.0)]
    assert len(report["communities"]) == 3
    assert report["brokers"][0]["unit"] == "区司法局"


def test_workload_text(run) -> None:
    code, out = run("workload", "--top", "5", "--no-collectives", "--communities")
    assert code == 0
    assert "lead 3 / responsible 2 / participating 1; collective units excluded" in out
    assert "区司法局" in out and "Co-assignment communities (Louvain, seeded): 3" in out


def test_workload_rejects_bad_weights(run, capsys) -> None:
    with pytest.raises(SystemExit):
        run("workload", "--weights", "1,2")
    assert "three numbers" in capsys.readouterr().err


def test_findings(run) -> None:
    code, out = run("findings", "--as-of", "2023-06-30", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["as_of"] == "2023-06-30"
    assert [t["number"] for t in report["tasks_without_lead"]] == [22, 24, 27, 62]
    assert [o["task"]["number"] for o in report["overdue"]] == [40, 42]
    code, text = run("findings", "--as-of", "2026-01-01")
    assert "Tasks with no lead unit (牵头单位): 4" in text
    assert "Tasks past their printed deadline: 5" in text
