"""The model notebooks 03-09 share everything after their introduction: it is written here, once.

Each model notebook keeps its own opening markdown cell (the architecture, its equation from the study,
what its quick variant is); from its first code cell on, it is :data:`BODY` with its own model name.
To change what every model notebook does, edit ``BODY`` and run

    python notebooks/model_notebooks.py          # rewrite the bodies of 03-09
    python notebooks/execute.py 03 04 05 06 07 08 09

``--check`` rewrites nothing and exits with status 1 naming each notebook whose body differs (the
tests run it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ravdess_tf.atomic import write_text

HERE = Path(__file__).resolve().parent
#: The model notebooks and the model each one is about (a name of ``ravdess_tf.build_model``).
MODEL_NOTEBOOKS = {"03_alexnet": "alexnet", "04_resnet": "resnet50", "05_inception": "inception_v3",
                   "06_vgg16": "vgg16", "07_vgg19": "vgg19", "08_lstm": "lstm", "09_transformer": "transformer"}
#: Where a notebook's own introduction ends and the shared body begins: its first code cell.
BODY_STARTS = "# %%\n# In Colab: fetch"
#: Stands for the model's name in :data:`BODY`.
PLACEHOLDER = "__MODEL__"

BODY = """# %%
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

MODEL = "__MODEL__"

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
"""


def expected_text(stem: str, current: str) -> str:
    """What ``notebooks/<stem>.py``, now holding ``current``, should hold: its own introduction, then
    :data:`BODY` for its model."""
    if BODY_STARTS not in current:
        raise SystemExit(f"notebooks/{stem}.py has no first code cell starting {BODY_STARTS!r}: "
                         "put back the Colab cell that opens every model notebook")
    return current[:current.index(BODY_STARTS)] + BODY.replace(PLACEHOLDER, MODEL_NOTEBOOKS[stem])


def stale_notebooks() -> dict[str, str]:
    """The model notebooks whose text is not :func:`expected_text`, each with the text it should hold."""
    stale = {}
    for stem in MODEL_NOTEBOOKS:
        current = (HERE / f"{stem}.py").read_text()
        expected = expected_text(stem, current)
        if current != expected:
            stale[stem] = expected
    return stale


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a body differs")
    args = parser.parse_args()
    stale = stale_notebooks()
    if args.check:
        if stale:
            sys.exit("not written from model_notebooks.BODY: " + ", ".join(stale)
                     + "; edit BODY, not the notebook, and run python notebooks/model_notebooks.py")
        return
    for stem, expected in stale.items():
        write_text(HERE / f"{stem}.py", expected)
        print(f"rewrote notebooks/{stem}.py: run python notebooks/execute.py {stem[:2]}")


if __name__ == "__main__":
    main()
