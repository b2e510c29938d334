# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 10 · Every model beside the study's Table 2
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ravdess-tf/ravdess-tf/blob/main/notebooks/10_comparison.ipynb)
#
# This notebook reads the committed results of the full study (`results/full/`) instead of
# retraining seven networks. Where they are missing it runs a quick study of two small models, and
# says so.

# %%
# In Colab: fetch the repository (its committed results) and install it. Elsewhere nothing happens.
import os
import subprocess
import sys

if "google.colab" in sys.modules and not os.path.isdir("/content/ravdess-tf"):
    subprocess.run(["git", "clone", "-q", "--depth", "1", "https://github.com/ravdess-tf/ravdess-tf",
                    "/content/ravdess-tf"], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "/content/ravdess-tf"], check=True)
    os.chdir("/content/ravdess-tf/notebooks")

# %% tags=["parameters"]
# Parameters (papermill style: CI runs PRESET="quick", EPOCHS=1; a GPU machine can run "full")
PRESET = "quick"     # "quick": small variants, minutes on a CPU; "full": the study's networks
DATA_DIR = None      # None: $RAVDESS_ROOT if set, else ./data (downloaded when missing)
SEED = 0
RESULTS_DIR = None   # None: results/full of this repository if it is there
RUNS_DIR = "runs/notebooks"

# %%
from pathlib import Path

import ravdess_tf as rt
from ravdess_tf import plots
from ravdess_tf.results import load_results
from ravdess_tf.report import write_results
from ravdess_tf.study import run_study

candidates = [Path(RESULTS_DIR)] if RESULTS_DIR else [Path("results/full"), Path("../results/full")]
results_dir = next((p for p in candidates if (p / "metrics.csv").is_file()), None)
if results_dir is not None:
    print(f"Reading the committed results in {results_dir}")
else:
    print("No results/full here: running a quick study of lstm and transformer instead.")
    metadata = rt.load_or_download(DATA_DIR)
    run_study(metadata, PRESET, models=["lstm", "transformer"], protocols=["paper", "actor"],
              runs_dir=RUNS_DIR, seed=SEED, verbose=0)
    results_dir = Path(RUNS_DIR) / "results"
    write_results(RUNS_DIR, PRESET, results_dir, results_dir / "figures")
results = load_results(results_dir)
comparison = results.comparison()
comparison.drop(columns=["label"]).round(3)

# %% [markdown]
# A run is identified by its preset, model, front-end (`features`), protocol, fold and seed;
# one bar or row is one configuration (everything but fold and seed), so the log-mel `transformer` and
# the `transformer` head on Whisper features are never averaged together.

# %%
plots.plot_comparison(comparison);

# %% [markdown]
# ## Confusion matrices (test, row-normalised, folds pooled)

# %%
plots.plot_confusions(results, columns=4);

# %% [markdown]
# ## Per emotion, intensity and gender

# %%
import pandas as pd

per_class = pd.read_csv(results_dir / "per_class_f1.csv")
for protocol, part in per_class.groupby("protocol", sort=False):
    table = part.pivot(index="emotion", columns="label", values="f1-score").reindex(rt.EMOTIONS)
    plots.plot_per_class_f1(table, title=f"test F1 per emotion, {protocol} protocol")

# %%
breakdown = pd.read_csv(results_dir / "breakdown.csv")
breakdown.pivot_table(index=["preset", "model", "features", "protocol"], columns=["by", "group"],
                      values="f1_macro").round(3)

# %% [markdown]
# ## Are the differences significant?
#
# For each protocol, every pair of configurations is compared on the same test clips with an exact
# McNemar test (clips one gets right and the other wrong), and each configuration's macro-F1 gets a
# 95 % bootstrap interval. Clips of one actor are not independent, so both are optimistic on the
# actor-independent protocols; with cross-validation, the spread over folds is the better guide.

# %%
intervals = results.bootstrap_intervals("f1_macro", n_resamples=1000, seed=SEED)
intervals.round(3)

# %%
tests = results.mcnemar_tests()
tests.round(4)
