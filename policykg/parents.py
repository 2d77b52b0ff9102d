"""Parent plans and alignments for a build: which plan is whose parent, and the alignment of a pair.

Parent plans (a municipal 实施方案, the national 纲要) live in ``data/parents/`` (``Config.parents``)
and are read like plans. A plan of the build can be a parent too (a municipal plan loaded beside its
districts'). Pairs come from the automatic rule :func:`analysis.align.is_parent`; any pair can be
aligned on request (``policykg align CHILD PARENT``). The alignment itself is :mod:`analysis.align`.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from pathlib import Path

from analysis.align import Alignment, align, is_parent
from ingest import load_unit_table, read_plan
from ingest.records import Plan
from search.text import read_terms

from .config import Config

SUFFIXES = (".txt", ".docx", ".pdf")


def parents_dir(config: Config) -> Path:
    """``<data>/parents``: the parent plans (a folder beside ``plans``)."""
    return config.data_dir / "parents"


def discover_parents(config: Config) -> list[Path]:
    folder = parents_dir(config)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES and not p.name.startswith("."))


@functools.lru_cache(maxsize=64)
def _read(path: str, sha: str, units_path: str, units_sha: str) -> Plan:
    units = load_unit_table(Path(units_path)) if units_path else None
    return read_plan(Path(path), units) if units is not None else read_plan(Path(path))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""


def read_parents(config: Config) -> list[Plan]:
    """The parent plans of ``data/parents`` (parsed once per content and unit table in a process)."""
    units = config.units if config.units.exists() else None
    return [
        _read(str(p), _sha(p), str(units or ""), _sha(units) if units else "") for p in discover_parents(config)
    ]


def candidates(children: Sequence[Plan], parents: Sequence[Plan]) -> list[tuple[Plan, Plan]]:
    """(child, parent) pairs by the automatic rule, over the parents folder and the build's own plans."""
    pool = {p.id: p for p in [*parents, *children]}
    return [(c, p) for c in children for p in pool.values() if p.id != c.id and is_parent(p, c)]


@functools.lru_cache(maxsize=32)
def _aligned(child: Plan, parent: Plan, model: str, terms: tuple[str, ...]) -> Alignment:
    return align(child, parent, model=model, words=terms)


def alignment(config: Config, child: Plan, parent: Plan, model: str = "usem3") -> Alignment:
    """The alignment of a pair (computed once per pair, model and terms in a process)."""
    terms = tuple(read_terms(config.terms)) if config.terms.exists() else ()
    return _aligned(child, parent, model, terms)
