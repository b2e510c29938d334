"""Execute the notebooks and commit them with their outputs.

    python notebooks/execute.py                 # every notebook, in order
    python notebooks/execute.py 03_alexnet 11   # some, by name or number

The paired ``NN_name.py`` (jupytext percent format) is the source: each is run top to bottom with its
own parameters (the quick preset on a CPU), from this folder, on the real data ($RAVDESS_ROOT, or
downloaded), and ``NN_name.ipynb`` is written with the outputs, so that a reader on GitHub or in
Colab sees every figure and table without running anything. Progress bars and other stderr output
are left out of the saved notebook; the source and the saved notebook stay a jupytext pair.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import os
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

from ravdess_tf.atomic import write_text

HERE = Path(__file__).resolve().parent
#: Seconds a cell may run: the longest is a quick training run or the first Whisper encoding.
CELL_TIMEOUT = 1800


def sources() -> list[Path]:
    """The notebooks' sources, in their numbered order."""
    return sorted(HERE.glob("[0-9][0-9]_*.py"))


def select(names: list[str]) -> list[Path]:
    """Sources matching ``names`` (a stem such as ``03_alexnet``, or its number ``03``); all without names."""
    every = sources()
    if not names:
        return every
    chosen = []
    for name in names:
        matches = [path for path in every if path.stem == name or path.stem.split("_")[0] == name.zfill(2)]
        if not matches:
            raise SystemExit(f"execute.py: no notebook {name!r}; notebooks: {', '.join(p.stem for p in every)}")
        chosen += matches
    return chosen


#: Bytes above which a figure is stored with a 256-colour palette: plots lose nothing visible, and a
#: spectrogram grid shrinks several times over (the repository keeps every executed notebook).
PALETTE_ABOVE = 150_000


def smaller_png(encoded: str) -> str:
    """A base64 PNG re-encoded with a 256-colour palette when that is smaller."""
    from PIL import Image

    original = base64.b64decode(encoded)
    if len(original) <= PALETTE_ABOVE:
        return encoded
    buffer = io.BytesIO()
    Image.open(io.BytesIO(original)).convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE).save(
        buffer, format="PNG", optimize=True)
    return base64.b64encode(buffer.getvalue()).decode("ascii") if buffer.tell() < len(original) else encoded


#: A live widget (a progress bar in Jupyter): it shows as a placeholder in a saved notebook.
WIDGET = "application/vnd.jupyter.widget-view+json"


def readable_outputs(book: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Keep what a reader needs: no stderr streams or widgets (progress bars, library warnings), no
    timing metadata, figures no larger than they need to be."""
    for cell in book.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs = [out for out in cell.outputs if not (out.output_type == "stream" and out.name == "stderr")
                        and WIDGET not in out.get("data", {})]
        for out in cell.outputs:
            if "image/png" in out.get("data", {}):
                out.data["image/png"] = smaller_png(out.data["image/png"])
        cell.metadata.pop("execution", None)
    book.metadata.pop("widgets", None)  # the state of the progress widgets removed above
    return book


def stable_cell_ids(book: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Name every cell after its type and source, not at random as a fresh read does, so that executing
    a notebook again changes only its outputs in the diff. A repeated cell gets ``-2``, ``-3``, ..."""
    seen: dict[str, int] = {}
    for cell in book.cells:
        digest = hashlib.sha1(f"{cell.cell_type}\n{cell.source}".encode()).hexdigest()[:8]
        seen[digest] = seen.get(digest, 0) + 1
        cell.id = digest if seen[digest] == 1 else f"{digest}-{seen[digest]}"
    return book


def execute(source: Path, timeout: int = CELL_TIMEOUT) -> nbformat.NotebookNode:
    """Run one notebook source in a fresh kernel from this folder; raise on the first failing cell."""
    book = jupytext.read(source)
    NotebookClient(book, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}).execute()
    return stable_cell_ids(readable_outputs(book))


def write(book: nbformat.NotebookNode, source: Path) -> Path:
    """Write the executed notebook beside its source, atomically, as a jupytext pair of it."""
    target = source.with_suffix(".ipynb")
    write_text(target, jupytext.writes(book, fmt="ipynb"))
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="notebooks to run (default: all)")
    parser.add_argument("--timeout", type=int, default=CELL_TIMEOUT, help="seconds a cell may run")
    args = parser.parse_args(argv)
    # The kernel inherits these: no progress bars or TensorFlow start-up lines in the saved outputs.
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    for source in select(args.names):
        start = time.perf_counter()
        print(f"{source.name}: running...", flush=True)
        target = write(execute(source, args.timeout), source)
        print(f"{source.name}: wrote {target.name} ({target.stat().st_size / 1e6:.1f} MB) "
              f"in {time.perf_counter() - start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
