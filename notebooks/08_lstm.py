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
# # 08 · LSTM
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ravdess-tf/ravdess-tf/blob/main/notebooks/08_lstm.ipynb)
#
# A Long Short-Term Memory network reads the spectrogram frame by
# frame. Its cell state carries information across time, gated by what to forget and what to add
# (equation 5):
#
# $$c_t = f_t * c_{t-1} + i_t * \tilde{c}_t$$
#
# Here bidirectional LSTM layers read the frames and their outputs are pooled over time: two layers of 128 units in
# the full network, one of 48 in the quick variant (the summary below prints the one you build).
#
# The notebook first shows what the full-size network scored in the committed study (`results/full`,
# trained on a CPU or GPU as its table says), then trains it here. With `PRESET = "quick"` that is a
# small variant that trains in minutes on a CPU; with `"full"`, the study's network (use a GPU).

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
# Parameters (papermill style: CI runs PRESET="quick", EPOCHS=1, FRACTION=0.25; a GPU can run "full")
PRESET = "quick"     # "quick": small variants, minutes on a CPU; "full": the study's networks
DATA_DIR = None      # None: $RAVDESS_ROOT if set, else ./data (downloaded when missing)
SEED = 0
PROTOCOL = "actor"   # "paper": the study's random split; "actor": test actors never heard in training
EPOCHS = None        # None: the preset's number of epochs
FRACTION = 1.0       # the share of each actor's clips of each emotion trained and tested here (below 1: quicker)
RUNS_DIR = "runs/notebooks"
RESULTS_DIR = "../results/full"   # the committed study, read without training
FIGURES_DIR = "../figures/full"

# %%
import pandas as pd
from IPython.display import Image, display

import ravdess_tf as rt
from ravdess_tf import plots
from ravdess_tf.evaluation import PAPER_TABLE2
from ravdess_tf.results import load_results
from ravdess_tf.training import preset_config, train

MODEL = "lstm"

# %% [markdown]
# ## What the full study measured
#
# One row per configuration: the front-end (`features`) and the protocol, averaged over its runs
# (`runs` counts its folds and seeds, `folds` the distinct actor folds among them: an `actor_cv` row with
# `folds` below 6 is a cross-validation still under way). The study's Table 2 is beside the spectrogram
# rows; only the `paper` protocol is its split, the others test actors the model never heard.

# %%
committed = load_results(RESULTS_DIR).of_model(MODEL)
committed.comparison()[["features", "protocol", "runs", "folds", "accuracy", "precision_macro", "recall_macro",
                        "f1_macro", "f1_macro_std", "paper_f1"]].round(3)

# %% [markdown]
# Training curves of the committed runs (the test split, or fold 0 of the cross-validation): training
# loss, validation loss and validation macro-F1, whose best epoch is the model kept.

# %%
for path in committed.history_figures(FIGURES_DIR):
    display(Image(filename=str(path), width=560))

# %% [markdown]
# Where the errors go (test clips, each row as fractions of its true emotion; folds pooled), and each
# emotion's F1.

# %%
plots.plot_confusions(committed);

# %%
plots.plot_results_per_emotion(committed);

# %% [markdown]
# ## Train it here

# %%
metadata = rt.sample_clips(rt.load_or_download(DATA_DIR), FRACTION, seed=SEED)
split = rt.make_split(metadata, PROTOCOL, seed=SEED)
config = preset_config(PRESET, MODEL, seed=SEED, **({"epochs": EPOCHS} if EPOCHS else {}))
input_shape = (*config.feature_config().shape, 1)
print({name: len(part) for name, part in split.items()}, "input shape", input_shape)

# %%
model = rt.build_model(MODEL, input_shape, **config.model_options)
model.summary(line_length=100, show_trainable=False)

# %% [markdown]
# AdamW with a cosine learning-rate decay, class weights, augmentation; the epoch with the best
# validation macro-F1 is kept and the test split is predicted once, with it. Running this cell again
# retrains from scratch.

# %%
run_dir = f"{RUNS_DIR}/{PRESET}/{MODEL}-{PROTOCOL}"
result = train(MODEL, split, config, run_dir=run_dir, overwrite=True, verbose=2)

# %%
history = pd.read_csv(f"{run_dir}/history.csv")
plots.plot_history(history, title=f"{MODEL}, {PRESET} preset, {PROTOCOL} split");

# %%
predictions = pd.read_csv(f"{run_dir}/predictions_test.csv")
plots.plot_confusion(predictions.emotion_id, predictions.predicted_id, normalize=True,
                     title=f"{MODEL}, {PRESET} preset, {PROTOCOL} split, test");

# %% [markdown]
# ## The four metrics, beside the study's
#
# The study's numbers come from its random split with its full-size network; compare like with like
# (a `quick` run is a small variant trained for a few epochs).

# %%
ours = {k: result["test"][k] for k in ("accuracy", "precision_macro", "recall_macro", "f1_macro")}
paper = PAPER_TABLE2.set_index("model").loc[MODEL]
pd.DataFrame({f"this run ({PRESET}, {PROTOCOL})": list(ours.values()), "study (Table 2)": list(paper)},
             index=["accuracy", "precision", "recall", "F1"]).round(3)
