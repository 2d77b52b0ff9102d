"""Shared fixtures: the Bishan plan, parsed once, and one full build in a temporary folder.

Tests never write into the repository's data/: the build fixture copies the plan and the editable
data files into a temporary data folder and points ``Config`` at it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

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


def copy_data(target: Path) -> Path:
    """A private data folder with the plan and the editable tables, as a user's checkout has."""
    (target / "plans").mkdir(parents=True)
    shutil.copy(PLAN_FILE, target / "plans" / PLAN_FILE.name)
    for name in ("units.toml", "thesaurus.toml", "terms.txt"):
        if (DATA / name).exists():
            shutil.copy(DATA / name, target / name)
    return target


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_data(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def config(data_dir: Path) -> Config:
    return Config(data_dir=data_dir, build_dir=data_dir / "build")


@pytest.fixture(scope="session")
def built(config: Config) -> Build:
    """One full build (graph + search index with the default embedder) shared by the session."""
    return Build.open(config)
