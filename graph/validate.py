"""SHACL validation of a build against ``graph/shapes.ttl`` (pyshacl)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph

HERE = Path(__file__).parent
ONTOLOGY = HERE / "ontology.ttl"
SHAPES = HERE / "shapes.ttl"


@dataclass(frozen=True)
class ShaclReport:
    conforms: bool
    violations: int
    text: str


def load_ontology() -> Graph:
    return Graph().parse(ONTOLOGY, format="turtle")


def validate(data: Graph) -> ShaclReport:
    from pyshacl import validate as shacl_validate

    shapes = Graph().parse(SHAPES, format="turtle")
    conforms, report_graph, text = shacl_validate(
        data, shacl_graph=shapes, ont_graph=load_ontology(), inference="none", abort_on_first=False,
        allow_warnings=True,
    )
    from rdflib.namespace import SH

    violations = len(set(report_graph.subjects(predicate=SH.resultSeverity)))
    return ShaclReport(bool(conforms), violations, str(text))
