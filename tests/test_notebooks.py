"""Execute every notebook top to bottom on the real data, as CI does.

Parameters are injected after the cell tagged ``parameters`` (as papermill
does): the quick preset, one epoch, runs in a temporary folder.
"""

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def test_ten_numbered_notebooks():
    assert [p.name[:2] for p in PATHS] == [f"{i:02d}" for i in range(1, 11)]


def test_notebooks_have_no_outputs_and_a_parameters_cell():
    for path in PATHS:
        book = nbformat.read(path, as_version=4)
        assert not any(cell.get("outputs") for cell in book.cells if cell.cell_type == "code"), path.name
        assert any("parameters" in cell.metadata.get("tags", []) for cell in book.cells), path.name


@pytest.mark.realdata
@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_notebook_runs(path, real_metadata, tmp_path, monkeypatch):
    if not os.environ.get("RAVDESS_TF_CACHE"):
        monkeypatch.setenv("RAVDESS_TF_CACHE", str(NOTEBOOKS.parent / "data" / "cache"))
    book = nbformat.read(path, as_version=4)
    index = next(i for i, cell in enumerate(book.cells) if "parameters" in cell.metadata.get("tags", []))
    injected = nbformat.v4.new_code_cell(
        f'PRESET = "quick"\nEPOCHS = 1\nDATA_DIR = {os.environ["RAVDESS_ROOT"]!r}\n'
        f'RUNS_DIR = {str(tmp_path / "runs")!r}')
    book.cells.insert(index + 1, injected)
    NotebookClient(book, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()


def test_comparison_notebook_groups_runs_as_the_library_does(tmp_path):
    """Notebook 10 on the committed results: every configuration under its own name (no audio needed)."""
    import json

    from ravdess_tf.results import load_results

    results_dir = NOTEBOOKS.parent / "results" / "full"
    path = NOTEBOOKS / "10_comparison.ipynb"
    book = nbformat.read(path, as_version=4)
    index = next(i for i, cell in enumerate(book.cells) if "parameters" in cell.metadata.get("tags", []))
    book.cells.insert(index + 1, nbformat.v4.new_code_cell(
        f'RESULTS_DIR = {str(results_dir)!r}\nRUNS_DIR = {str(tmp_path / "runs")!r}'))
    book.cells.append(nbformat.v4.new_code_cell(
        'import json\nprint(json.dumps({"predictions": sorted(map(list, predictions)), '
        '"intervals": sorted(map(list, zip(intervals.label, intervals.protocol)))}))'))
    NotebookClient(book, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    reported = json.loads(book.cells[-1].outputs[0]["text"])
    results = load_results(results_dir)
    expected = sorted(map(list, dict.fromkeys(zip(results.metrics.label, results.metrics.protocol))))
    assert reported["predictions"] == expected
    assert reported["intervals"] == expected
    assert ["pooled, whisper-base-L2+3+4+speaker-norm", "actor_cv"] in expected
    assert ["transformer, whisper-base-L2+3+4", "actor_cv"] in expected
