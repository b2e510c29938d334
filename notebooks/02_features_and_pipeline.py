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
# # 02 · Features, augmentation and honest splits
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ravdess-tf/ravdess-tf/blob/main/notebooks/02_features_and_pipeline.ipynb)
#
# How a clip becomes the input of a network, what training-time augmentation does to it, and why the
# way the clips are split decides what the final number means.

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

# %%
import time
from dataclasses import asdict

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import ravdess_tf as rt
from ravdess_tf.pipeline import AugmentConfig, augment_batch, fit_normalizer

metadata = rt.load_or_download(DATA_DIR)
config = rt.FeatureConfig()
pd.Series(asdict(config))

# %% [markdown]
# ## Cached extraction
#
# The first call decodes, resamples and transforms every clip on all cores; the second reads the cache.

# %%
for attempt in ("first", "second"):
    start = time.perf_counter()
    features = rt.extract_features(metadata, config)
    print(f"{attempt} call: {time.perf_counter() - start:.2f} s, shape {features.shape}")

# %% [markdown]
# ## Augmentation
#
# In training only, each batch is changed on the fly: a random band of mel bands and of frames is masked (SpecAugment), the clip is shifted in time and a little noise is added. The network never sees the same picture twice.

# %%
normalizer = fit_normalizer(features)
clip = normalizer(features[:1])
augmented = augment_batch(clip, np.random.default_rng(SEED), AugmentConfig())
fig, axes = plt.subplots(1, 2, figsize=(14, 3.5))
for ax, image, title in zip(axes, (clip[0], augmented[0]), ("standardised", "augmented")):
    ax.imshow(image, origin="lower", aspect="auto", cmap="magma")
    ax.set_title(title)

# %% [markdown]
# ## Splits
#
# The study splits the 1440 clips at random into 960/240/240. Every actor then appears in training
# *and* test, so a model can score by recognising the voice. The actor-independent split keeps test
# actors out of training; cross-validation rotates four test actors at a time.

# %%
rows = []
for protocol, fold in [("paper", None), ("actor", None)] + [("actor_cv", k) for k in range(6)]:
    split = rt.make_split(metadata, protocol, seed=SEED, fold=fold)
    actors = {name: set(part.actor) for name, part in split.items()}
    shared = (actors["train"] & actors["test"]) | (actors["validation"] & actors["test"])
    rows.append({"protocol": protocol, "fold": fold, **{name: len(part) for name, part in split.items()},
                 "test actors": sorted(actors["test"]), "test actors also in training": len(shared)})
splits_table = pd.DataFrame(rows)
splits_table

# %%
independent = splits_table[splits_table.protocol != "paper"]
assert (independent["test actors also in training"] == 0).all(), "an actor crosses an actor-independent split"
print("No actor crosses an actor-independent split; the paper split shares",
      int(splits_table.loc[0, "test actors also in training"]), "of 24 actors between training and test.")
