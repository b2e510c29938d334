"""The leakage experiment: its conditions split as they say, the SVM baseline, resumable results."""

import numpy as np
import pandas as pd
import pytest

from conftest import speech_like
from ravdess_tf import load_metadata
from ravdess_tf.exceptions import ParameterError
from ravdess_tf.leakage import (AUGMENTATIONS, CONDITIONS, augment_clip, condition_splits, copy_in_training,
                                leakage_summary, pooled_rows, run_leakage)
from ravdess_tf.training.baseline import SVM_C_GRID, clip_statistics, fit_svm


@pytest.fixture(scope="module")
def metadata(full_names_root):
    return load_metadata(full_names_root)


def test_actor_folds_share_no_actor_and_no_clip(metadata):
    folds = condition_splits(metadata, "actor_cv")
    assert len(folds) == 6
    for split in folds:
        assert not set(split["train"].actor) & set(split["test"].actor)
        assert copy_in_training(split) == 0.0
    assert sorted(pd.concat([f["test"] for f in folds]).source) == list(range(len(metadata)))


def test_the_random_split_shares_actors_but_no_recording(metadata):
    (split,) = condition_splits(metadata, "random")
    assert [len(split[p]) for p in ("train", "validation", "test")] == [960, 240, 240]
    assert set(split["test"].actor) <= set(split["train"].actor)
    assert copy_in_training(split) == 0.0


def test_augmenting_before_the_split_puts_copies_of_test_clips_in_training(metadata):
    (split,) = condition_splits(metadata, "augmented+random", seed=3)
    copies = 1 + len(AUGMENTATIONS)
    assert [len(split[p]) for p in ("train", "validation", "test")] == [960 * copies, 240 * copies, 240 * copies]
    # each of a test row's other copies lands in training with probability about 2/3
    expected = 1 - (1 - 2 / 3) ** (copies - 1)
    assert copy_in_training(split) == pytest.approx(expected, abs=0.05)
    assert set(split["test"]["copy"]) == set(range(copies))
    assert condition_splits(metadata, "augmented+random", seed=3)[0]["test"].index.equals(split["test"].index)


def test_pooled_rows_index_the_stacked_copies(metadata):
    pool = pooled_rows(metadata.head(5), 3)
    assert list(pool.index) == list(range(15))
    assert list(pool["copy"]) == [0] * 5 + [1] * 5 + [2] * 5
    assert list(pool["source"]) == list(range(5)) * 3


def test_an_unknown_condition_is_refused_with_the_valid_ones(metadata):
    with pytest.raises(ParameterError, match="random\\+scaled_on_all"):
        condition_splits(metadata, "shuffled")


def test_augmented_copies_keep_the_length_and_change_the_sound():
    audio = speech_like(3.0)
    rng = np.random.default_rng(0)
    noisy = augment_clip(audio, "noise", 16_000, rng)
    assert noisy.shape == audio.shape and noisy.dtype == np.float32
    assert 0 < np.abs(noisy - audio).std() <= 0.035 * np.abs(audio).max()
    shifted = augment_clip(audio, "pitch", 16_000, rng)
    assert shifted.shape == audio.shape
    assert not np.allclose(shifted, audio, atol=1e-3)
    with pytest.raises(ParameterError, match="noise, pitch"):
        augment_clip(audio, "reverb", 16_000, rng)


def test_clip_statistics_are_each_bands_mean_and_spread():
    features = np.stack([np.full((3, 10), 2.0), np.tile(np.arange(10.0), (3, 1))])
    stats = clip_statistics(features)
    assert stats.shape == (2, 6)
    np.testing.assert_allclose(stats[0], [2, 2, 2, 0, 0, 0])
    np.testing.assert_allclose(stats[1, :3], 4.5)


def test_the_svm_learns_separable_classes_and_picks_c_on_validation():
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 5, (4, 6))
    parts = {}
    for name, size in (("train", 40), ("validation", 20), ("test", 20)):
        y = np.repeat(np.arange(4), size // 4)
        parts[name] = (centres[y] + rng.normal(0, 0.5, (len(y), 6)), y)
    x, y = {k: v[0] for k, v in parts.items()}, {k: v[1] for k, v in parts.items()}
    model, history = fit_svm(x, y)
    assert (model.predict(x["test"]) == y["test"]).mean() == 1.0
    assert list(history.C) == list(SVM_C_GRID)
    assert model[-1].C == history.loc[history.val_macro_f1.idxmax(), "C"]


def test_the_summary_orders_conditions_and_measures_the_gain():
    rows = pd.DataFrame({"model": "svm", "condition": ["random", "actor_cv", "actor_cv"], "fold": [0, 0, 1],
                         "seed": 0, "accuracy": [0.7, 0.4, 0.5], "f1_macro": [0.7, 0.4, 0.5],
                         "test_with_copy_in_train": 0.0})
    summary = leakage_summary(rows)
    assert list(summary.condition) == ["actor_cv", "random"]
    assert summary.f1_macro.tolist() == pytest.approx([0.45, 0.7])
    assert summary.gain_over_actor_cv.tolist() == pytest.approx([0.0, 0.25])
    with pytest.raises(ParameterError):
        leakage_summary(rows.iloc[:0])
    assert CONDITIONS[0] == "actor_cv"


@pytest.mark.realdata
def test_the_svm_under_actor_folds_and_the_random_split_resumes(real_metadata, tmp_path):
    out = tmp_path / "leakage"
    rows = run_leakage(real_metadata, ["svm"], ("actor_cv", "random"), out_dir=out, progress=False)
    assert len(rows) == 7 and (out / "leakage.csv").is_file()
    honest = rows[rows.condition == "actor_cv"].f1_macro.mean()
    shared_voices = rows[rows.condition == "random"].f1_macro.iloc[0]
    assert 0.2 < honest < shared_voices  # knowing the voices helps; both well above chance (0.125)
    again = run_leakage(real_metadata, ["svm"], ("actor_cv", "random"), out_dir=out, progress=False)
    pd.testing.assert_frame_equal(again, pd.read_csv(out / "leakage.csv"))
    assert again.seconds.tolist() == rows.seconds.tolist()  # nothing was run twice
