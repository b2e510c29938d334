import os
import stat

import numpy as np
import pytest

from ravdess_tf.atomic import NpyRowWriter, save_array, write_json


def test_npy_row_writer_makes_the_array_np_save_makes(tmp_path):
    array = np.arange(24, dtype=np.float32).reshape(4, 2, 3)
    with NpyRowWriter(tmp_path / "rows.npy", array.shape, array.dtype) as writer:
        for row in array:
            writer.write(row)
        assert not (tmp_path / "rows.npy").exists()  # only whole files appear
    save_array(tmp_path / "saved.npy", array)
    assert (tmp_path / "rows.npy").read_bytes() == (tmp_path / "saved.npy").read_bytes()
    np.testing.assert_array_equal(np.load(tmp_path / "rows.npy"), array)


def test_npy_row_writer_keeps_nothing_unless_complete(tmp_path):
    target = tmp_path / "cache.npy"
    write_json(target.with_suffix(".json"), {"kept": True})
    with NpyRowWriter(target, (3, 2), np.float32) as writer:  # too few rows
        writer.write(np.zeros(2, np.float32))
    with NpyRowWriter(target, (1, 2), np.float32) as writer:  # abandoned
        writer.write(np.zeros(2, np.float32))
        writer.abandon()
        writer.write(np.zeros(2, np.float32))  # ignored once abandoned
    with pytest.raises(RuntimeError, match="worker failed"):
        with NpyRowWriter(target, (1, 2), np.float32) as writer:
            writer.write(np.zeros(2, np.float32))
            raise RuntimeError("worker failed")
    assert [p.name for p in tmp_path.iterdir()] == ["cache.json"]  # no file, no temporary left


def test_npy_row_writer_rejects_a_row_of_the_wrong_shape(tmp_path):
    with NpyRowWriter(tmp_path / "a.npy", (2, 3), np.float32) as writer:
        with pytest.raises(ValueError, match=r"row 0 of shape \(4,\) does not fit an array of shape \(2, 3\)"):
            writer.write(np.zeros(4, np.float32))
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_written_files_follow_the_umask(tmp_path, umask_022):
    """Nothing the project writes is 0600 under umask 022: others on a shared machine can read it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from ravdess_tf.atomic import atomic_path, write_csv, write_text
    from ravdess_tf.plots import save_figure

    write_json(tmp_path / "a.json", {"x": 1})
    write_text(tmp_path / "b.md", "text")
    write_csv(tmp_path / "c.csv", pd.DataFrame({"x": [1]}))
    save_array(tmp_path / "d.npy", np.zeros(3))
    with NpyRowWriter(tmp_path / "e.npy", (2, 3), np.float32) as writer:
        writer.write(np.zeros(3))
        writer.write(np.ones(3))
    save_figure(plt.figure(), tmp_path / "f.png")
    with atomic_path(tmp_path / "g.bin") as temporary:
        temporary.write_bytes(b"\0")
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in tmp_path.iterdir()}
    assert modes == {name: 0o644 for name in ("a.json", "b.md", "c.csv", "d.npy", "e.npy", "f.png", "g.bin")}


def test_a_stricter_umask_is_kept(tmp_path):
    previous = os.umask(0o077)
    try:
        write_json(tmp_path / "private.json", {})
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "private.json").stat().st_mode) == 0o600
