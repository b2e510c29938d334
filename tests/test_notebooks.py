"""The notebooks: paired sources in sync, committed with their outputs, and every one runs on the real data.

The ``.py`` files (jupytext percent format) are the sources; ``notebooks/execute.py`` writes the
``.ipynb`` beside each with its outputs. CI runs every source top to bottom on the real data with
parameters injected after the cell tagged ``parameters`` (as papermill does): the quick preset, one
epoch, a quarter of the clips where a notebook trains or encodes, runs in a temporary folder; nothing is
written into the repository. Notebook 10 runs on the committed results, in its own test.
"""

import json
import os
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

from conftest import REAL_RUN_FRACTION, load_module

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SOURCES = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))
LESSONS = ["11_what_leaks", "12_pretrained_front_end", "13_what_the_model_listens_to", "14_robustness"]
#: notebooks/execute.py, which writes the committed notebooks: its cell limit and helpers are tested here.
EXECUTE = load_module(NOTEBOOKS / "execute.py")


def _cells(book) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source.strip()) for cell in book.cells]


def _parameters_index(book) -> int:
    return next(i for i, cell in enumerate(book.cells) if "parameters" in cell.metadata.get("tags", []))


def test_the_numbered_notebooks_and_the_lessons_are_there():
    stems = [p.stem for p in SOURCES]
    assert [s[:2] for s in stems] == [f"{i:02d}" for i in range(1, 15)]
    assert stems[-4:] == LESSONS


@pytest.mark.parametrize("source", SOURCES, ids=[p.stem for p in SOURCES])
def test_each_source_and_its_notebook_are_a_pair_in_sync(source):
    notebook = source.with_suffix(".ipynb")
    assert notebook.is_file(), f"{notebook.name} is missing: run python notebooks/execute.py {source.stem}"
    paired, committed = jupytext.read(source), nbformat.read(notebook, as_version=4)
    assert _cells(committed) == _cells(paired), (
        f"{notebook.name} is out of step with {source.name}: run python notebooks/execute.py {source.stem} "
        "(or jupytext --sync after an edit in Jupyter)")
    assert committed.metadata.get("jupytext", {}).get("formats") == "ipynb,py:percent"


@pytest.mark.parametrize("source", SOURCES, ids=[p.stem for p in SOURCES])
def test_each_notebook_is_committed_executed_with_its_figures(source):
    book = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    code = [cell for cell in book.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code), "a cell was not executed"
    outputs = [out for cell in code for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    assert any("image/png" in out.get("data", {}) for out in outputs), "no figure in the saved outputs"
    counts = [cell.execution_count for cell in code]
    assert counts == sorted(counts), "cells were run out of order"
    _parameters_index(book)


def _readable_text(book) -> str:
    """The text a reader sees in a notebook's outputs (not the base64 of its figures and sounds)."""
    parts = []
    for cell in book.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            for kind in ("text/plain", "text/html"):
                value = out.get("data", {}).get(kind, "")
                if "base64" not in value:
                    parts.append(value)
    return "\n".join(parts)


def test_committed_outputs_name_no_local_path():
    data = os.environ.get("RAVDESS_ROOT")
    for source in SOURCES:
        text = _readable_text(nbformat.read(source.with_suffix(".ipynb"), as_version=4))
        assert str(NOTEBOOKS.parent) not in text, f"{source.stem} shows a path of the machine it ran on"
        assert not data or str(Path(data).resolve()) not in text, f"{source.stem} shows where the data was"


#: What test_notebook_runs executes: notebook 10 reads the committed results when they are there, as
#: they are here, and its own test below runs it top to bottom on them.
RUN_SOURCES = [source for source in SOURCES if source.stem != "10_comparison"]


@pytest.mark.realdata
@pytest.mark.parametrize("source", RUN_SOURCES, ids=[p.stem for p in RUN_SOURCES])
def test_notebook_runs(source, real_metadata, tmp_path, monkeypatch):
    if not os.environ.get("RAVDESS_TF_CACHE"):
        monkeypatch.setenv("RAVDESS_TF_CACHE", str(NOTEBOOKS.parent / "data" / "cache"))
    monkeypatch.setenv("TQDM_DISABLE", "1")
    book = jupytext.read(source)
    book.cells.insert(_parameters_index(book) + 1, nbformat.v4.new_code_cell(
        f'PRESET = "quick"\nEPOCHS = 1\nFRACTION = {REAL_RUN_FRACTION}\n'
        f'DATA_DIR = {os.environ["RAVDESS_ROOT"]!r}\nRUNS_DIR = {str(tmp_path / "runs")!r}'))
    before = _repository_files()
    # execute.py's limit: notebook 12's Whisper-encoding cell passed 900 s on a loaded 2-core CPU (the whole
    # notebook takes 400 s on an idle one).
    NotebookClient(book, timeout=EXECUTE.CELL_TIMEOUT, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    assert _repository_files() == before, "the notebook wrote into the repository"


def _repository_files() -> dict[str, int]:
    """Every file under notebooks/ and results/ with its modification time (caches aside)."""
    return {str(path): path.stat().st_mtime_ns for folder in (NOTEBOOKS, NOTEBOOKS.parent / "results")
            for path in folder.rglob("*") if path.is_file() and "__pycache__" not in path.parts
            and ".ipynb_checkpoints" not in path.parts and "runs" not in path.parts}


def test_comparison_notebook_groups_runs_as_the_library_does(tmp_path):
    """Notebook 10, top to bottom on the committed results: every configuration under its own name (no
    audio needed), nothing written into the repository."""
    from ravdess_tf.results import load_results

    results_dir = NOTEBOOKS.parent / "results" / "full"
    book = jupytext.read(NOTEBOOKS / "10_comparison.py")
    book.cells.insert(_parameters_index(book) + 1, nbformat.v4.new_code_cell(
        f'RESULTS_DIR = {str(results_dir)!r}\nRUNS_DIR = {str(tmp_path / "runs")!r}'))
    book.cells.append(nbformat.v4.new_code_cell(
        'import json\nprint(json.dumps({"comparison": sorted(map(list, zip(comparison.label, comparison.protocol))), '
        '"intervals": sorted(map(list, zip(intervals.label, intervals.protocol)))}))'))
    before = _repository_files()
    NotebookClient(book, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    assert _repository_files() == before, "the notebook wrote into the repository"
    reported = json.loads(book.cells[-1].outputs[0]["text"])
    results = load_results(results_dir)
    expected = sorted(map(list, dict.fromkeys(zip(results.metrics.label, results.metrics.protocol))))
    assert reported["comparison"] == expected
    assert reported["intervals"] == expected
    assert ["pooled, whisper-base-L2+3+4+speaker-norm", "actor_cv"] in expected
    assert ["transformer, whisper-base-L2+3+4", "actor_cv"] in expected


def test_execute_script_selects_by_name_or_number():
    assert [p.stem for p in EXECUTE.select(["3", "11_what_leaks"])] == ["03_alexnet", "11_what_leaks"]
    assert len(EXECUTE.select([])) == len(SOURCES)
    with pytest.raises(SystemExit, match="no notebook '99'"):
        EXECUTE.select(["99"])


def test_cell_ids_follow_the_source_not_the_read():
    first, second = (EXECUTE.stable_cell_ids(jupytext.read(SOURCES[0])) for _ in range(2))
    ids = [cell.id for cell in first.cells]
    assert ids == [cell.id for cell in second.cells] and len(set(ids)) == len(ids)
    second.cells[1].source += "\n# edited"
    second.cells.append(nbformat.v4.new_markdown_cell(first.cells[0].source))
    second = EXECUTE.stable_cell_ids(second)
    assert [cell.id for cell in second.cells][2:-1] == ids[2:] and second.cells[1].id != ids[1]
    assert second.cells[-1].id == ids[0] + "-2"
    nbformat.validate(second)


def test_model_notebooks_share_one_body():
    """03-09 differ only in their introduction and model: the rest is model_notebooks.BODY, edited once."""
    model_notebooks = load_module(NOTEBOOKS / "model_notebooks.py")
    assert set(model_notebooks.MODEL_NOTEBOOKS) == {p.stem for p in SOURCES if "03" <= p.stem[:2] <= "09"}
    stale = model_notebooks.stale_notebooks()
    assert not stale, (f"{', '.join(stale)}: not model_notebooks.BODY after the introduction; edit BODY and run "
                       "python notebooks/model_notebooks.py")
    for stem, model in model_notebooks.MODEL_NOTEBOOKS.items():
        assert f'MODEL = "{model}"' in (NOTEBOOKS / f"{stem}.py").read_text()
