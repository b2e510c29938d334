"""Atomic file writes: a temporary name in the same folder, then a rename.

A reader never sees half a file, and an interrupted write leaves the previous
version (or nothing) in place.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path beside ``path``; rename it to ``path`` if the block succeeds.

    The temporary name keeps ``path``'s suffix, for writers that look at it
    (``.keras``, ``.png``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
    os.close(handle)
    try:
        yield Path(temporary)
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)


def _json_default(value):
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def write_text(path, text: str) -> None:
    with atomic_path(path) as temporary:
        temporary.write_text(text)


def write_json(path, payload) -> None:
    write_text(path, json.dumps(payload, indent=2, default=_json_default))


def write_csv(path, table) -> None:
    """Write a pandas DataFrame as CSV, without its index."""
    with atomic_path(path) as temporary:
        table.to_csv(temporary, index=False)


def save_array(path, array: np.ndarray) -> None:
    with atomic_path(path) as temporary:
        np.save(temporary, array)
