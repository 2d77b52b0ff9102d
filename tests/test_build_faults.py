"""Builds under faults: killed at any stage, damaged on disk, or run twice at once.

A killed build must leave the previous build intact and usable; a damaged build must be refused
with a message that says how to rebuild; two builds at once must not interleave.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from policykg.build import Build, BuildError
from policykg.config import Config
from policykg.manifest import read_manifest
from tests.conftest import PLAN_FILE, copy_data

pytestmark = pytest.mark.slow

DISTRICTS = ["永川", "江津", "合川", "綦江", "大足", "铜梁", "潼南", "荣昌"]


def add_plans(data: Path, names: list[str]) -> None:
    """Other districts' plans: the Bishan text with the district renamed and task texts of their own
    (so that a build has new texts to embed, not only cached ones)."""
    text = PLAN_FILE.read_text(encoding="utf-8")
    for name in names:
        own = text.replace("璧山", name).replace("。（牵头", f"，{name}先行先试。（牵头")
        (data / "plans" / f"{name}.txt").write_text(own, encoding="utf-8")


def cli(data: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "POLICYKG_DATA": str(data), "HF_HUB_OFFLINE": "1"}
    env.pop("POLICYKG_BUILD", None)
    return subprocess.Popen([sys.executable, "-m", "policykg.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def kill_at(data: Path, marker: str) -> list[str]:
    """Start a build and SIGKILL it as soon as its progress shows ``marker``; return what it printed."""
    proc = cli(data, "build")
    seen: list[str] = []
    assert proc.stderr is not None
    for line in proc.stderr:
        seen.append(line.strip())
        if marker in line:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=120)
    assert proc.returncode == -signal.SIGKILL, f"the build ended before {marker!r}: {seen}"
    return seen


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    folder = copy_data(tmp_path_factory.mktemp("faults") / "data")
    add_plans(folder, DISTRICTS[:1])
    proc = cli(folder, "build")
    assert proc.wait(timeout=600) == 0, proc.stderr.read() if proc.stderr else ""
    return folder


def snapshot(data: Path) -> tuple[str, dict[str, int], list[int]]:
    build = Build.open(Config(data_dir=data), auto_build=False)
    hits = build.search_engine().search("川渝协同", top=3).hits
    rows = list(build.store.query("SELECT (COUNT(*) AS ?n) WHERE { ?t a pk:Task }"))
    assert int(rows[0][0].value) == build.counts.tasks
    return os.readlink(data / "build"), build.counts, sorted(h.position for h in hits)


@pytest.mark.parametrize("marker", ["parse", "store", "search: embedding", "search: writing"])
def test_a_killed_build_leaves_the_previous_one_usable(data, marker):
    before = snapshot(data)
    # a change that needs new parsing, storing and embedding
    add_plans(data, [DISTRICTS[1 + ["parse", "store", "search: embedding", "search: writing"].index(marker)]])
    kill_at(data, marker)
    assert snapshot(data) == before
    assert not Build.open(Config(data_dir=data), auto_build=False).is_current()  # the change is still pending


def test_after_kills_the_next_build_completes(data):
    proc = cli(data, "build")
    assert proc.wait(timeout=600) == 0, proc.stderr.read() if proc.stderr else ""
    build = Build.open(Config(data_dir=data), auto_build=False)
    assert build.is_current() and build.counts.plans == len(list((data / "plans").glob("*.txt")))
    build.check_files(deep=True)


def test_two_builds_at_once_do_not_interleave(data):
    add_plans(data, DISTRICTS[6:7])
    first, second = cli(data, "build"), cli(data, "build")
    assert first.wait(timeout=600) == 0 and second.wait(timeout=600) == 0
    versions = sorted(p for p in (data / ".builds").iterdir() if p.is_dir() and not p.name.endswith(".partial"))
    manifests = [read_manifest(v) for v in versions if (v / "manifest.json").exists()]
    expected = len(list((data / "plans").glob("*.txt")))
    assert [m.counts.plans for m in manifests[-2:]] == [expected, expected]
    build = Build.open(Config(data_dir=data), auto_build=False)
    build.check_files(deep=True)


@pytest.fixture()
def damaged(data, tmp_path) -> Path:
    """A private copy of the current build to damage."""
    copy = tmp_path / "build"
    shutil.copytree(data / "build", copy, symlinks=False)
    return copy


def open_copy(data: Path, path: Path) -> Build:
    return Build.open(Config(data_dir=data, build_dir=path), auto_build=False)


def test_a_truncated_store_file_is_detected(data, damaged):
    sst = max((damaged / "store").glob("*.sst"), key=lambda p: p.stat().st_size)
    with sst.open("r+b") as f:
        f.truncate(sst.stat().st_size // 2)
    with pytest.raises(BuildError, match=r"damaged build.*policykg build"):
        open_copy(data, damaged)


def test_a_missing_index_file_is_detected(data, damaged):
    victim = next(p for p in (damaged / "search").iterdir() if p.is_file() and p.name != "manifest.json")
    victim.unlink()
    with pytest.raises(BuildError, match="is missing"):
        open_copy(data, damaged)


def test_a_flipped_byte_is_found_by_the_deep_check(data, damaged):
    victim = max((p for p in (damaged / "search").iterdir() if p.is_file()), key=lambda p: p.stat().st_size)
    raw = bytearray(victim.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    victim.write_bytes(bytes(raw))
    build = open_copy(data, damaged)  # sizes match: the cheap check passes
    with pytest.raises(BuildError, match="does not match its checksum"):
        build.check_files(deep=True)


def test_a_partial_build_directory_is_not_a_build(data, tmp_path):
    partial = tmp_path / "partial"
    shutil.copytree(data / "build", partial)
    (partial / "manifest.json").unlink()
    with pytest.raises(BuildError, match="policykg build"):
        open_copy(data, partial)
