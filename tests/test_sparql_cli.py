"""``policykg sparql / queries / describe`` as a user runs them: a real process on the test build."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sparql.queries import list_queries

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def cli(config: Any, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [
        sys.executable,
        "-m",
        "policykg.cli",
        *args,
        "--data",
        str(config.data_dir),
        "--build-dir",
        str(config.build),
    ]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, input=stdin, timeout=300)


def test_canned_query_by_name_as_csv(config: Any, built: Any, plan_file: Path) -> None:
    p = cli(config, "sparql", "tasks-per-unit-by-role", "--format", "csv")
    assert p.returncode == 0, p.stderr
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    sfj = next(r for r in rows if r["unitLabel"] == "区司法局" and r["role"] == "lead")
    text = plan_file.read_text(encoding="utf-8")
    leads = [c.split("；")[0] for c in text.split("（牵头单位：")[1:]]
    assert int(sfj["tasks"]) == sum("区司法局" in c.replace("，", "、").split("、") for c in leads)


def test_query_text_file_and_stdin(config: Any, built: Any, tmp_path: Path) -> None:
    f = tmp_path / "q.rq"
    f.write_text("SELECT (COUNT(*) AS ?n) WHERE { ?t a pk:Task }", encoding="utf-8")
    for args, stdin in (([str(f)], None), (["-"], f.read_text(encoding="utf-8"))):
        p = cli(config, "sparql", *args, "--format", "json", stdin=stdin)
        assert p.returncode == 0, p.stderr
        assert json.loads(p.stdout)["results"]["bindings"][0]["n"]["value"] == "74"


def test_refusals_and_errors_are_one_line(config: Any, built: Any) -> None:
    for q in (
        "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
        "SELECT * WHERE { ?s nope:p ?o }",
        "not-a-query-name",
    ):
        p = cli(config, "sparql", q)
        assert p.returncode == 2 and p.stderr.count("\n") == 1 and "Traceback" not in p.stderr, p.stderr
    p = cli(
        config,
        "sparql",
        "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }",
        "--timeout",
        "1",
    )
    assert p.returncode == 2 and "time limit" in p.stderr


def test_queries_listing_and_describe(config: Any, built: Any) -> None:
    p = cli(config, "queries", "--json")
    assert [q["name"] for q in json.loads(p.stdout)] == [q.name for q in list_queries()]
    p = cli(config, "describe", "pk:leads", "--format", "json")
    entry = json.loads(p.stdout)
    assert (
        "牵头@zh" in entry["label"]
        and entry["domain"] == ["org:Organization"]
        and entry["range"] == ["pk:Task"]
    )
    leads = built.store.query("SELECT (COUNT(*) AS ?n) WHERE { ?u pk:leads ?t }")
    assert entry["usage"]["triples"] == int(next(iter(leads))["n"].value)
    p = cli(config, "describe", "区司法局")
    assert p.returncode == 0 and "pk:leads" in p.stdout and "org:subOrganizationOf" in p.stdout
