"""Shared fixtures: the Bishan plan, parsed once, and one full build in a temporary folder.

Tests never write into the repository's data/: the build fixture copies the plan and the editable
data files into a temporary data folder and points ``Config`` at it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ingest import load_unit_table, read_plan
from ingest.records import Plan
from policykg.build import Build
from policykg.config import Config

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
PLAN_FILE = DATA / "plans" / "chongqing-bishan-fazhi-zhengfu-2021-2025-draft.txt"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def plan_file() -> Path:
    return PLAN_FILE


@pytest.fixture(scope="session")
def unit_table():
    return load_unit_table(DATA / "units.toml")


@pytest.fixture(scope="session")
def bishan(unit_table) -> Plan:
    return read_plan(PLAN_FILE, unit_table)


def copy_data(target: Path, *, reports: bool = False) -> Path:
    """A private data folder with the plan and the editable tables, as a user's checkout has;
    with ``reports``, the annual reports of data/reports too."""
    (target / "plans").mkdir(parents=True)
    shutil.copy(PLAN_FILE, target / "plans" / PLAN_FILE.name)
    for name in ("units.toml", "thesaurus.toml", "terms.txt"):
        if (DATA / name).exists():
            shutil.copy(DATA / name, target / name)
    if reports:
        shutil.copytree(DATA / "reports", target / "reports")
    return target


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's data folder: the Bishan plan and the Bishan annual reports (2022, 2023)."""
    return copy_data(tmp_path_factory.mktemp("data"), reports=True)


@pytest.fixture(scope="session")
def config(data_dir: Path) -> Config:
    return Config(data_dir=data_dir, build_dir=data_dir / "build")


@pytest.fixture(scope="session")
def built(config: Config) -> Build:
    """One full build (graph + search index with the default embedder) shared by the session."""
    return Build.open(config)


# --- servers started by tests (Streamlit, Virtuoso) -------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serving(cmd: list[str], *, probe: str, log: Path, what: str, seconds: float = 90.0,
            ready: Callable[[bytes], bool] = lambda _body: True, grace: float = 10.0,
            **popen: Any) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``cmd`` (output to ``log``) until ``probe`` answers 200 with a body ``ready`` accepts; stop it after.

    Fails the test with the log's tail when the process exits or does not answer in ``seconds``.
    """
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, **popen)
    try:
        deadline = time.monotonic() + seconds
        while True:
            try:
                with urllib.request.urlopen(probe, timeout=2) as resp:
                    if resp.status == 200 and ready(resp.read()):
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{what} did not start within {seconds:g} s:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.3)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
