"""Notebooks are committed without outputs (they are executed by nbmake in the same run)."""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    dirty = [i for i, cell in enumerate(notebook["cells"])
             if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert not dirty, f"cells {dirty} of {path.name} have outputs: run `nbstripout {path}`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_widget_state_or_run_metadata(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    assert "widgets" not in notebook["metadata"], f"{path.name} stores widget state: run `nbstripout {path}`"
    timed = [i for i, cell in enumerate(notebook["cells"]) if {"execution", "ExecuteTime"} & set(cell["metadata"])]
    assert not timed, f"cells {timed} of {path.name} keep execution times: run `nbstripout {path}`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_cell_has_a_unique_id(path):
    """nbformat 4.5 requires cell ids; newer nbformat releases will refuse notebooks without them."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    ids = [cell.get("id") for cell in notebook["cells"]]
    missing = [i for i, cell_id in enumerate(ids) if not cell_id]
    assert not missing, f"cells {missing} of {path.name} have no id: open and save it in Jupyter, or nbformat.validator.normalize"
    assert len(set(ids)) == len(ids), f"{path.name} repeats a cell id"
