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
        "augmented_copies": True, "mixup_alpha": 0.2, "seed": 12}
    assert recipe_levers.lever_settings("recipe-seed3") == {"seed": 3}
    assert recipe_levers.lever_settings("ema-0.99") == {"ema_momentum": 0.99}


@pytest.mark.parametrize("name", ["mixup", "augmented-copies-seed", "seed1", "nope-seed1"])
def test_an_unknown_lever_is_refused_by_name(recipe_levers, name):
    with pytest.raises(argparse.ArgumentTypeError, match=f"unknown lever '{name}'"):
        recipe_levers.lever_settings(name)
