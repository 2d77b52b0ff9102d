"""The `policykg` command, run as a user runs it: a real process, real files, stable JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import copy_data


def run(args: list[str], data: Path, *, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "POLICYKG_DATA": str(data), "HF_HUB_OFFLINE": "1"}
    env.pop("POLICYKG_BUILD", None)
    proc = subprocess.run([sys.executable, "-m", "policykg.cli", *args], capture_output=True, text=True,
                          env=env, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"policykg {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """A data folder with a graph-only build, made through the CLI itself."""
    folder = copy_data(tmp_path_factory.mktemp("cli") / "data")
    proc = run(["build", "--no-search"], folder)
    assert "74 tasks" in proc.stdout
    return folder


def test_stats_json_is_the_stable_interface(data):
    stats = json.loads(run(["stats", "--json"], data).stdout)
    assert {k: stats[k] for k in ("plans", "chapters", "sections", "tasks")} == \
        {"plans": 1, "chapters": 10, "sections": 31, "tasks": 74}
    assert stats["units"] == 46 and stats["triples"] > 1500


def test_tasks_json_by_lead_unit(data):
    tasks = json.loads(run(["tasks", "--lead", "区司法局", "--json"], data).stdout)
    assert len(tasks) == 26
    first = tasks[0]
    assert set(first) >= {"plan", "task", "chapter", "section", "text", "lead_units", "responsible_units",
                          "participating_units", "deadlines", "targets"}
    assert first["task"] == "2" and first["section"] == {"position": 1, "label": "（一）",
                                                          "title": "推进政府机构职能优化协同高效"}
    task40 = next(t for t in tasks if t["task"] == "40")
    assert task40["deadlines"] == [{"date": "2022-12-31", "wording": "到2022年底"}]


def test_tasks_by_responsible_unit(data):
    tasks = json.loads(run(["tasks", "--responsible", "区公安分局", "--json"], data).stdout)
    assert [t["task"] for t in tasks] == ["23", "24", "32", "35", "40", "58", "59"]


def test_units_json(data):
    units = {u["name"]: u for u in json.loads(run(["units", "--json"], data).stdout)}
    assert units["区司法局"] | {"aliases": []} == {"plan": "chongqing-bishan-2021-2025", "name": "区司法局",
                                                  "type": "government", "collective": False, "aliases": [],
                                                  "leads": 26, "responsible": 2, "participates": 0}
    assert units["区政府有关部门"]["participates"] == 4


@pytest.mark.parametrize("fmt,marker", [("ttl", "@prefix"), ("nt", "<https://w3id.org/policykg/"),
                                         ("jsonld", '"@context"'), ("graphml", "<graphml")])
def test_export_formats(data, tmp_path, fmt, marker):
    out = tmp_path / f"graph.{fmt}"
    run(["export", "--format", fmt, "--output", str(out)], data)
    assert marker in out.read_text(encoding="utf-8")[:4000]


def test_validate_reports_shacl_and_defects(data):
    proc = run(["validate"], data)
    assert "SHACL: conforms" in proc.stdout
    assert "skips （二十七）" in proc.stdout and "（二十八） is printed again" in proc.stdout
    assert "'各镇人民政府、街道办事' is cut off" in proc.stdout
    strict = run(["validate", "--strict"], data, check=False)
    assert strict.returncode == 1


@pytest.mark.parametrize("content,expected", [
    (None, "file not found"),
    (b"", "empty"),
    (bytes(range(256)) * 8, "binary"),
    ("这是一份通知，不是方案。".encode(), "does not look like a plan"),
], ids=["missing", "empty", "binary", "not-a-plan"])
def test_bad_input_is_one_line_and_a_non_zero_exit(tmp_path, content, expected):
    data = tmp_path / "data"
    (data / "plans").mkdir(parents=True)
    bad = tmp_path / "input.txt"
    if content is not None:
        bad.write_bytes(content)
    proc = run(["build", "--no-search", str(bad)], data, check=False)
    assert proc.returncode == 2
    assert expected in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 + proc.stderr.count("policykg: parse")
    assert not (data / "build").exists()  # nothing half-built is published


def test_a_failed_build_leaves_the_previous_one_usable(data, tmp_path):
    bad = tmp_path / "empty.txt"
    bad.write_bytes(b"")
    assert run(["build", "--no-search", str(bad)], data, check=False).returncode == 2
    assert json.loads(run(["stats", "--json"], data).stdout)["tasks"] == 74


def test_a_unit_is_named_in_tasks_as_in_search(data):
    """`tasks --responsible` resolves a name like `search` does (ingest.lexicon): an alias (区公安局 is
    printed for 区公安分局) and a body without its level (公安分局) find the same tasks as the name."""
    by_name = [t["task"] for t in json.loads(run(["tasks", "--responsible", "区公安分局", "--json"], data).stdout)]
    assert by_name == ["23", "24", "32", "35", "40", "58", "59"]
    for other in ("区公安局", "公安分局"):
        tasks = json.loads(run(["tasks", "--responsible", other, "--json"], data).stdout)
        assert [t["task"] for t in tasks] == by_name, other
    nobody = run(["tasks", "--lead", "区不存在局", "--json"], data)
    assert json.loads(nobody.stdout) == [] and "no unit is named '区不存在局'" in nobody.stderr


def test_every_user_error_is_one_line_through_one_edge(data):
    """A graph-only build has no search index: BuildError, reported by main()'s one except clause."""
    proc = run(["search", "数据共享"], data, check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith("policykg: error: ") and "policykg build" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_the_error_types_users_can_act_on_share_one_base():
    from graph.store import StoreError
    from ingest.errors import IngestError, PolicykgError
    from policykg.build import BuildError
    from policykg.cli import CliError
    from search.embedders import EmbedderError
    from search.errors import SearchIndexError, StaleIndexError
    from sparql.errors import QueryTimeout, SparqlError
    from sparql.queries import QueryFileError, QueryScopeError, UnknownPlanError
    from sparql.remote import RemoteStoreError

    for kind in (IngestError, BuildError, StoreError, SparqlError, QueryTimeout, RemoteStoreError, QueryFileError,
                 QueryScopeError, UnknownPlanError, SearchIndexError, StaleIndexError, EmbedderError, CliError):
        assert issubclass(kind, PolicykgError), kind
        assert kind.exit_status == 2


def test_commands_load_only_what_they_use(data):
    """Reporting an error or listing tasks must not import faiss or torch (seconds of start-up)."""
    code = ("import sys\nfrom policykg.cli import main\nstatus = main(sys.argv[1:])\n"
            "heavy = sorted(m for m in ('faiss', 'torch', 'search.engine') if m in sys.modules)\n"
            "print('HEAVY', status, heavy, file=sys.stderr)\n")
    env = {**os.environ, "POLICYKG_DATA": str(data), "HF_HUB_OFFLINE": "1"}
    for args, status in ((["tasks", "--lead", "区司法局", "--json"], 0), (["stats", "--json"], 0),
                         (["sparql", "no-such-query"], 2)):
        proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                              timeout=300)
        assert proc.stderr.strip().splitlines()[-1] == f"HEAVY {status} []", (args, proc.stderr)


def test_a_terminal_sees_bars_with_counts_and_eta(tmp_path):
    """On a terminal (a pseudo-terminal here) the build draws rich progress bars on stderr: the
    parse count (2/2), the ETA, and the cursor shown again at the end; stdout keeps its one line."""
    import pty

    data = copy_data(tmp_path / "data")
    plan = next((data / "plans").glob("*.txt"))
    (data / "plans" / "second.txt").write_text(plan.read_text(encoding="utf-8").replace("璧山", "永川"),
                                                encoding="utf-8")
    leader, follower = pty.openpty()
    env = {**os.environ, "POLICYKG_DATA": str(data), "HF_HUB_OFFLINE": "1", "COLUMNS": "120", "TERM": "xterm"}
    env.pop("POLICYKG_BUILD", None)
    proc = subprocess.Popen([sys.executable, "-m", "policykg.cli", "build", "--no-search"], stdout=subprocess.PIPE,
                            stderr=follower, env=env, text=True)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the follower side closed: the process is gone
            break
        if not chunk:
            break
        chunks.append(chunk)
    out, _ = proc.communicate(timeout=600)
    os.close(leader)
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 0 and "148 tasks" in out
    assert "2/2" in screen and "ETA" in screen and "store" in screen
    assert "policykg: parse" not in screen  # the log form is for pipes only
    assert screen.rstrip().endswith("\x1b[?25h")  # the cursor is shown again
