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
