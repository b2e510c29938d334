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
# # 14 · Robustness: the same clips, recorded differently
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ravdess-tf/ravdess-tf/blob/main/notebooks/14_robustness.ipynb)
#
# RAVDESS was recorded in one studio, at one level, with digital silence between words. A person's
# recording is louder or quieter, has a noise floor, may come through a telephone. This lesson alters
# the same clips in those ways and asks whether the answer changes (`ravdess_tf.robustness`), then
# shows how to test on another corpus (`ravdess_tf.corpus`).
#
# Per condition: **accuracy**, and **agreement**, the fraction of clips whose answer is the one given
# to the clip as recorded. The bundled models were trained on all 24 actors, so accuracy as recorded
# is high; what matters here is how far it falls.

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
DATA_DIR = None      # None: $RAVDESS_ROOT if set, else ./data (downloaded when missing)
SEED = 0
RESULTS_DIR = "../results/robustness"   # the committed measurements
CORPUS_DIR = None    # a folder of another corpus (EmoDB, CREMA-D, TESS, SAVEE) to test on, if you have one
CORPUS_RULE = None   # "emodb", "crema-d", "tess" or "savee": how its file names give the emotion

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Audio, display

import ravdess_tf as rt
from ravdess_tf.audio import load_audio, speech_level
from ravdess_tf.corpus import evaluate_corpus, load_corpus
from ravdess_tf.robustness import CONDITIONS, bundled_model_clips, evaluate_robustness, make_babble, plot_robustness
from ravdess_tf.spectrogram import SpectrogramExtractor

metadata = rt.load_or_download(DATA_DIR)
clips = bundled_model_clips(metadata)   # actors 21-24, every third file: 80 clips
babble_from = metadata[~metadata.actor.isin(set(clips.actor))]   # other speakers, as `ravdess-tf robustness`
print(len(clips), "clips;", len(CONDITIONS), "conditions:", ", ".join(c.name for c in CONDITIONS))

# %% [markdown]
# ## Hear and see the conditions
#
# One clip (the first check clip) under a few of the conditions. The spectrograms are the raw log-mel
# of the altered audio, before the model's own level normalisation.

# %%
babble = make_babble(babble_from.path)
audio = load_audio(clips.path.iloc[0])
shown = [c for c in CONDITIONS if c.name in ("as recorded", "gain -20 dB", "peak-normalised",
                                                 "white noise 10 dB SNR", "babble 10 dB SNR", "telephone band")]
extractor = SpectrogramExtractor(rt.FeatureConfig(level_dbfs=None))
fig, axes = plt.subplots(2, 3, figsize=(15, 6), sharey=True)
for ax, condition in zip(axes.flat, shown):
    altered = condition.apply(audio, babble)
    ax.imshow(extractor(altered), origin="lower", aspect="auto", cmap="magma", vmin=-100, vmax=0)
    ax.set_title(f"{condition.name} ({speech_level(altered, 16_000):.0f} dBFS speech)")
fig.tight_layout()
for condition in shown:
    print(condition.name)
    display(Audio(condition.apply(audio, babble), rate=16_000, normalize=False))

# %% [markdown]
# ## The bundled log-mel transformer, measured here
#
# Every clip is first brought to a fixed speech level (`FeatureConfig.level_dbfs`), in training and in
# prediction alike; so gain and peak normalisation should not change the answer at all.

# %%
logmel = rt.load_pretrained("logmel")
measured = evaluate_robustness(logmel, clips, babble_from)
measured.round(3)

# %% [markdown]
# ## Beside the Whisper head (committed: `ravdess-tf robustness --pretrained whisper`)

# %%
whisper = pd.read_csv(Path(RESULTS_DIR) / "bundled-whisper.csv")
plot_robustness({"log-mel transformer (here)": measured, "Whisper head (committed)": whisper});

# %% [markdown]
# What the figure says, and the committed README (`results/robustness/README.md`) measured before it:
#
# - **Level** no longer matters to either model (agreement 1.0 from -30 to +20 dB): the level
#   normalisation of the front-end fixed what made the old log-mel model fall to 0.11 accuracy on
#   peak-normalised clips.
# - **Noise** broke the log-mel model until it trained on noisy copies of its clips (RAVDESS's pauses are
#   digital silence, so it had never heard a noise floor): now it keeps most of its accuracy at 20 dB SNR
#   and loses about half of it at 5 dB, about as much as the Whisper head.
# - **The telephone band** still breaks the log-mel model: it removes everything above 3.4 kHz, which no
#   copy in training did. The Whisper encoder, trained on far more varied audio, loses much less.

# %% [markdown]
# ## Another corpus
#
# A model trained on RAVDESS answers with RAVDESS's eight emotions; another corpus has its own, often
# fewer. `load_corpus` maps its labels onto RAVDESS's and keeps the clips whose emotion RAVDESS has;
# `evaluate_corpus` scores the model over the shared emotions and 8-way. The corpora are not
# redistributable, so set `CORPUS_DIR` to your copy (e.g. EmoDB's `wav/` folder with `CORPUS_RULE = "emodb"`).

# %%
if CORPUS_DIR is not None:
    corpus, left_out = load_corpus(CORPUS_DIR, rule=CORPUS_RULE)
    print(len(corpus), "clips with a RAVDESS emotion; left out:", dict(left_out))
    report = evaluate_corpus(logmel, corpus)
    display(report.metrics)
    display(report.confusion)
else:
    print("CORPUS_DIR is not set: no other corpus here. Command line: "
          "ravdess-tf evaluate-corpus FOLDER --rule emodb")
