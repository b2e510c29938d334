"""Tests of the experiment scripts in ``scripts/`` that the committed results name (no training)."""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import load_module
from ravdess_tf.splits import NUM_FOLDS

REPOSITORY = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def recipe_levers():
    return load_module(REPOSITORY / "scripts" / "recipe_levers.py")


@pytest.fixture(scope="module")
def ensemble_levers():
    return load_module(REPOSITORY / "scripts" / "ensemble_levers.py")


def test_every_lever_in_the_ablation_table_can_be_trained_again(recipe_levers):
    levers = pd.read_csv(REPOSITORY / "results" / "ablation.csv")["lever"].unique()
    for lever in levers:
        settings = recipe_levers.lever_settings(lever)
        assert settings.get("seed", 0) == (int(lever.rsplit("-seed", 1)[1]) if "-seed" in lever else 0), lever


def test_a_seed_suffix_adds_the_seed_to_the_lever(recipe_levers):
    assert recipe_levers.lever_settings("augmented-copies+mixup-0.2-seed12") == {
        "augmented_copies": True, "warmup_epochs": 1, "mixup_alpha": 0.2, "seed": 12}
    assert recipe_levers.lever_settings("recipe-seed3") == {"augmented_copies": False, "warmup_epochs": 1, "seed": 3}
    assert recipe_levers.lever_settings("ema-0.99") == {
        "augmented_copies": False, "warmup_epochs": 1, "ema_momentum": 0.99}


@pytest.mark.parametrize("model", ["transformer", "lstm"])
def test_a_lever_trains_what_it_was_measured_as_after_the_preset_adopted_levers(recipe_levers, model):
    from ravdess_tf.training import preset_config

    def trained(lever):
        config = preset_config("full", model, **recipe_levers.lever_settings(lever))
        return config.augmented_copies, config.warmup_epochs

    # The preset has adopted the copies for both models since their levers were measured.
    assert preset_config("full", model).augmented_copies
    assert trained("recipe") == (False, 1)
    assert trained("augmented-copies") == (True, 1)
    assert trained("augmented-copies+warmup-5") == (True, 5)


def _predictions(rng, labels: np.ndarray) -> pd.DataFrame:
    """A model's predictions table for clips with the given emotion ids (random probabilities)."""
    from ravdess_tf import EMOTIONS

    probabilities = rng.dirichlet(np.ones(len(EMOTIONS)), size=len(labels))
    return pd.DataFrame({"clip_id": [f"clip{i}" for i in range(len(labels))], "emotion_id": labels,
                         "predicted_id": probabilities.argmax(axis=1),
                         **{f"p_{e}": probabilities[:, i] for i, e in enumerate(EMOTIONS)}})


def test_kept_predictions_score_the_same_ensembles_as_the_run_folders(recipe_levers, ensemble_levers, tmp_path):
    """recipe_levers keeps each fold's two prediction files; ensemble_levers reads them as it reads runs."""
    rng = np.random.default_rng(0)
    labels = {name: rng.integers(0, 8, 40) for name in recipe_levers.KEPT_PREDICTIONS}  # the same clips for all
    members = ["transformer/lever-a", "lstm/lever-b"]
    for member in members:
        model, lever = member.split("/")
        for fold in range(NUM_FOLDS):
            run_dir = tmp_path / "runs" / lever / f"{model}-actor_cv-fold{fold}"
            run_dir.mkdir(parents=True)
            for name in recipe_levers.KEPT_PREDICTIONS:
                _predictions(rng, labels[name]).to_csv(run_dir / name, index=False)
            (run_dir / "best.keras").write_bytes(b"weights, not kept")
            recipe_levers.keep_predictions(run_dir, tmp_path / "kept" / lever / run_dir.name)
    assert sorted(p.name for p in (tmp_path / "kept" / "lever-a" / "transformer-actor_cv-fold0").iterdir()) == [
        "predictions_test.csv", "predictions_validation.csv"]
    from_runs = ensemble_levers.score_ensembles(tmp_path / "runs", members, smallest=1)
    from_kept = ensemble_levers.score_ensembles(tmp_path / "kept", members, smallest=1)
    pd.testing.assert_frame_equal(from_kept, from_runs)
    assert len(from_kept) == NUM_FOLDS * 3  # each member alone and the pair, on each fold
    from ravdess_tf.evaluation import compute_metrics
    alone = pd.read_csv(tmp_path / "kept" / "lever-b" / "lstm-actor_cv-fold2" / "predictions_test.csv")
    row = from_kept[(from_kept.ensemble == "lstm/lever-b") & (from_kept.fold == 2)].iloc[0]
    assert row.test_f1_macro == round(compute_metrics(alone.emotion_id, alone.predicted_id)["f1_macro"], 4)


def test_a_member_without_kept_predictions_names_the_command_that_makes_them(ensemble_levers, tmp_path):
    from ravdess_tf.exceptions import ParameterError

    with pytest.raises(ParameterError, match="recipe_levers.py --model lstm --levers lever-c"):
        ensemble_levers.score_ensembles(tmp_path, ["lstm/lever-c"], smallest=1)


@pytest.mark.parametrize("name", ["mixup", "augmented-copies-seed", "seed1", "nope-seed1"])
def test_an_unknown_lever_is_refused_by_name(recipe_levers, name):
    with pytest.raises(argparse.ArgumentTypeError, match=f"unknown lever '{name}'"):
        recipe_levers.lever_settings(name)
