"""Every notebook in notebooks/ runs top to bottom on the session's temporary build.

The kernel inherits POLICYKG_DATA / POLICYKG_BUILD pointing at the temporary build (so nothing is
written into the repository's data/) and POLICYKG_OUTPUT pointing at a temporary folder for files
the notebooks export. Committed notebooks must carry no outputs: outputs are results of one run on
one machine and make diffs unreadable.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT = 300  # seconds per cell; the first search cell loads the embedding model


def test_there_are_notebooks() -> None:
    names = {p.name for p in NOTEBOOKS}
    assert {"01_workload.ipynb", "02_semantic_qa.ipynb", "03_sparql_handbook.ipynb"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"{path.name}: clear the outputs of cells {dirty} before committing"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, built, config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICYKG_DATA", str(config.data_dir))
    monkeypatch.setenv("POLICYKG_BUILD", str(config.build))
    monkeypatch.setenv("POLICYKG_OUTPUT", str(tmp_path / "out"))
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
    except CellExecutionError as exc:
        pytest.fail(f"{path.name} failed:\n{exc}")
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    # the notebook used the temporary build, not the repository's
    first = "".join(o.get("text", "") for o in nb.cells[2].outputs if o.output_type == "stream")
    assert str(config.build) in first
    if path.name == "01_workload.ipynb":
        written = sorted(p.name for p in (tmp_path / "out").glob("*.graphml"))
        assert written == ["bishan-co-assignment-with-collectives.graphml", "bishan-co-assignment.graphml"]
