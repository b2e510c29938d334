"""Atomic file writes: a temporary name in the same folder, then a rename.

A reader never sees half a file, and an interrupted write leaves the previous
version (or nothing) in place. The file that appears has the permissions of
any file the user makes (0644 under the usual umask 022), not the 0600 that
:func:`tempfile.mkstemp` gives its temporary files: results, caches and
figures are meant to be read by others on a shared machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from pathlib import Path

import numpy as np


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path beside ``path``; rename it to ``path`` if the block succeeds.

    The temporary name keeps ``path``'s suffix, for writers that look at it
    (``.keras``, ``.png``).
    """
    path = Path(path)
    handle, temporary = _temporary_beside(path)
    os.close(handle)
    try:
        yield temporary
        _publish(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process' umask. POSIX can only read it by setting it, so set it back at once, under a lock."""
    with _UMASK_LOCK:
        umask = os.umask(0o077)
        os.umask(umask)
    return umask


def _publish(temporary: Path, path: Path) -> None:
    """Give ``temporary`` the permissions a new file gets under the umask, then rename it to ``path``."""
    os.chmod(temporary, 0o666 & ~current_umask())
    os.replace(temporary, path)


def _temporary_beside(path: Path) -> tuple[int, Path]:
    """A new hidden file in ``path``'s folder (made if missing), with ``path``'s suffix: its open handle and name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
    return handle, Path(temporary)


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


class NpyRowWriter:
    """Write an ``.npy`` file one row (leading-axis slice) at a time, atomically.

    Rows are written in order while later ones are still being computed, so
    the write overlaps the work instead of following it: for the 138 MB
    log-mel cache, ``numpy.save`` afterwards added 0.04-0.3 s (0.3 s once
    the kernel throttled dirty pages) to 1.1-1.4 s of extraction here. The
    file appears at ``path`` only if every row was written, nothing was
    :meth:`abandon`-ed and the ``with`` block ended without an exception.

    Parameters
    ----------
    path : str or path-like
        The ``.npy`` file to make.
    shape : tuple of int
        Shape of the whole array; each :meth:`write` gives ``shape[1:]``.
    dtype : numpy dtype
        Element type of the array.
    """

    def __init__(self, path, shape, dtype):
        self.path = Path(path)
        self.shape = tuple(int(n) for n in shape)
        self.dtype = np.dtype(dtype)
        self.rows_written = 0
        self.abandoned = False

    def __enter__(self):
        handle, self.temporary = _temporary_beside(self.path)
        self.stream = os.fdopen(handle, "wb")
        header = {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False, "shape": self.shape}
        np.lib.format.write_array_header_1_0(self.stream, header)
        return self

    def write(self, row: np.ndarray) -> None:
        """Append the next row; ignored after :meth:`abandon`."""
        if self.abandoned:
            return
        if row.shape != self.shape[1:] or self.rows_written >= self.shape[0]:
            raise ValueError(f"{self.path}: row {self.rows_written} of shape {row.shape} does not fit "
                             f"an array of shape {self.shape}")
        self.stream.write(np.ascontiguousarray(row, dtype=self.dtype).data)
        self.rows_written += 1

    def abandon(self) -> None:
        """Keep no file: nothing written so far appears at ``path``."""
        self.abandoned = True

    def __exit__(self, error_type, error, traceback):
        self.stream.close()
        complete = self.rows_written == self.shape[0] and not self.abandoned
        if error_type is None and complete:
            _publish(self.temporary, self.path)
        else:
            self.temporary.unlink(missing_ok=True)
        return False
