"""Tests of the experiment scripts in ``scripts/`` that the committed results name (no training)."""

import argparse
import importlib.util
from pathlib import Path

import pandas as pd
import pytest

REPOSITORY = Path(__file__).resolve().parents[1]


def load_script(name: str):
    """Import ``scripts/NAME.py`` as a module (the folder is not a package)."""
    spec = importlib.util.spec_from_file_location(name, REPOSITORY / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def recipe_levers():
    return load_script("recipe_levers")


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
