"""Tests of the experiment scripts in ``scripts/`` that the committed results name (no training)."""

import argparse
from pathlib import Path

import pandas as pd
import pytest

from conftest import load_module

REPOSITORY = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def recipe_levers():
    return load_module(REPOSITORY / "scripts" / "recipe_levers.py")


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


@pytest.mark.parametrize("name", ["mixup", "augmented-copies-seed", "seed1", "nope-seed1"])
def test_an_unknown_lever_is_refused_by_name(recipe_levers, name):
    with pytest.raises(argparse.ArgumentTypeError, match=f"unknown lever '{name}'"):
        recipe_levers.lever_settings(name)
