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
# # 01 · RAVDESS: what is in the data
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ravdess-tf/ravdess-tf/blob/main/notebooks/01_eda.ipynb)
#
# The speech part of RAVDESS: 1440 clips, 24 professional actors (12 female, 12 male), two
# statements, eight emotions, two intensities. Every fact below is read from the files; nothing is
# typed in by hand.

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
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import soundfile
from IPython.display import Audio, display

import ravdess_tf as rt
from ravdess_tf.audio import load_audio
from ravdess_tf.features import FeatureConfig
from ravdess_tf.spectrogram import SpectrogramExtractor

metadata = rt.load_or_download(DATA_DIR)
metadata.drop(columns="path").head()  # one row per clip; its "path" column, left out here, is where your copy is

# %% [markdown]
# ## How many clips of each kind
#
# The file name encodes everything: `03-01-05-02-01-02-12` is audio-only (03), speech (01), angry (05), strong (02), statement 1, repetition 2, actor 12 (even: female).

# %%
fig, axes = plt.subplots(2, 3, figsize=(15, 7))
for ax, column in zip(axes.flat, ["emotion", "intensity", "gender", "statement", "repetition", "actor"]):
    sns.countplot(data=metadata, x=column, ax=ax, order=sorted(metadata[column].unique()))
    ax.tick_params(axis="x", rotation=45)
fig.tight_layout()
pd.crosstab(metadata["emotion"], metadata["intensity"], margins=True)

# %% [markdown]
# ## Class imbalance
#
# Neutral has no strong intensity, so it has 96 clips against 192 for every other emotion. A model
# that never says "neutral" loses little accuracy (6.7 % of clips) but a whole class: macro-averaged
# F1 counts every emotion equally and exposes that, which is why this project selects and reports on
# macro-F1. Always guessing one emotion scores 13.3 % accuracy; chance macro-F1 is about 0.125.

# %%
counts = metadata["emotion"].value_counts()
print(counts.to_string())
print(f"majority-class accuracy: {counts.max() / counts.sum():.3f}")

# %% [markdown]
# ## Clip durations
#
# Features use a centred 3-second window (padded when shorter), so it matters how long the clips are.

# %%
info = [soundfile.info(path) for path in metadata["path"]]
metadata["seconds"] = [i.duration for i in info]
metadata["channels"] = [i.channels for i in info]
print(f"{metadata.seconds.min():.2f}-{metadata.seconds.max():.2f} s, mean {metadata.seconds.mean():.2f} s, "
      f"{metadata.seconds.sum() / 3600:.2f} hours; stereo clips: {(metadata.channels == 2).sum()}")
ax = sns.histplot(data=metadata, x="seconds", hue="emotion", multiple="stack", bins=30)
ax.axvline(FeatureConfig().duration, color="black", linestyle="--")

# %% [markdown]
# ## One clip per emotion: waveform, log-mel spectrogram, sound
#
# All from actor 1, statement 1 ("Kids are talking by the door"), normal intensity.

# %%
config = FeatureConfig()
extractor = SpectrogramExtractor(config)
examples = metadata[(metadata.actor == 1) & (metadata.statement == 1) & (metadata.intensity == "normal")
                    & (metadata.repetition == 1)]
fig, axes = plt.subplots(len(examples), 2, figsize=(14, 2.2 * len(examples)))
for (waveform_ax, mel_ax), row in zip(axes, examples.itertuples()):
    audio = load_audio(row.path, config.sample_rate)
    waveform_ax.plot(np.arange(len(audio)) / config.sample_rate, audio, linewidth=0.5)
    waveform_ax.set_ylabel(row.emotion)
    mel_ax.imshow(extractor(audio), origin="lower", aspect="auto", cmap="magma")
    mel_ax.set_yticks([])
axes[-1, 0].set_xlabel("seconds")
axes[-1, 1].set_xlabel("frames (16 ms)")
fig.tight_layout()

# %%
for row in examples.itertuples():
    print(row.emotion)
    display(Audio(load_audio(row.path, config.sample_rate), rate=config.sample_rate))
