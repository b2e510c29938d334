"""Training-recipe levers for the log-mel networks, one at a time, over the six actor folds.

Every lever is the ``full`` preset's recipe, as the levers were first measured against
(``MEASURED_AGAINST``), with a few :class:`ravdess_tf.training.TrainConfig` fields changed; each is
trained on the six actor-CV folds and chosen on its mean *validation* macro-F1 (the validation actors
of each fold); test macro-F1 is reported and never used for a choice.

    python scripts/recipe_levers.py --model transformer --levers recipe ema-0.99 augmented-copies-seed1

A lever's name followed by ``-seedN`` is that lever trained with random seed N (the preset's is 0).

Resumable: a lever's finished folds are read back from RUNS_DIR/LEVER/MODEL-actor_cv-foldK, unfinished
ones resume there. Appends to ``results/ablation.csv`` (one row per model, lever and fold) and prints
the mean per lever. Each fold's validation and test predictions are kept under
``results/levers/LEVER/MODEL-actor_cv-foldK/`` (the run folder's layout, the two files alone), so that
``scripts/ensemble_levers.py`` can score ensembles of the levers from the repository, without the run
folders (their weights are not committed).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
from pathlib import Path

import pandas as pd

from ravdess_tf import load_or_download, make_split
from ravdess_tf.atomic import write_csv, write_text
from ravdess_tf.results import run_file_name
from ravdess_tf.splits import NUM_FOLDS
from ravdess_tf.training import preset_config, train

#: The fields every lever starts from, whatever the preset adopts: the ``full`` recipe as the levers
#: were first measured, before the augmented copies became its recipe for every network but VGG19.
#: Pinned, so that a lever's name keeps meaning what it trained and its rows in results/ablation.csv
#: can be trained again; a lever the preset adopts later (a warm-up, say) belongs here too.
MEASURED_AGAINST = {"augmented_copies": False, "warmup_epochs": 1}

#: Each lever: the TrainConfig fields it changes from ``MEASURED_AGAINST`` and the preset's recipe.
LEVERS = {
    "recipe": {},
    "ema-0.99": {"ema_momentum": 0.99},
    "ema-0.999": {"ema_momentum": 0.999},
    "augmented-copies": {"augmented_copies": True},
    "augmented-copies+ema-0.99": {"augmented_copies": True, "ema_momentum": 0.99},
    "augmented-copies+speaker-norm": {"augmented_copies": True, "speaker_normalization": True},
    "augmented-copies+label-smoothing-0.1": {"augmented_copies": True, "label_smoothing": 0.1},
    "augmented-copies+mixup-0.2": {"augmented_copies": True, "mixup_alpha": 0.2},
    "augmented-copies+warmup-5": {"augmented_copies": True, "warmup_epochs": 5},
    "augmented-copies+warmup-5+mixup-0.2": {"augmented_copies": True, "warmup_epochs": 5, "mixup_alpha": 0.2},
    # An equal-weight average of the weights at the end of epochs 20, 21, ... (the second half of a
    # 40-epoch run), validated and kept instead of the latest weights; set beside augmented-copies+warmup-5.
    "augmented-copies+warmup-5+swa-from-20": {"augmented_copies": True, "warmup_epochs": 5, "swa_start_epoch": 20},
    "augmented-copies+specaugment-2x": {"augmented_copies": True,
                                        "augment_options": {"freq_masks": 2, "time_masks": 2}},
    "weight-decay-0.05": {"weight_decay": 0.05},
    "lr-3e-4": {"learning_rate": 3e-4},
    "epochs-60": {"epochs": 60, "patience": 15},
}


_SEED_SUFFIX = re.compile(r"(?P<lever>.+)-seed(?P<seed>[0-9]+)")


def lever_settings(name: str) -> dict:
    """The TrainConfig fields of the lever called ``name``: an entry of ``LEVERS``, or one with ``-seedN`` added.

    Raises
    ------
    argparse.ArgumentTypeError
        When ``name`` is neither; the message lists the levers.
    """
    seeded = _SEED_SUFFIX.fullmatch(name)
    if name in LEVERS:
        lever, seed = name, {}
    elif seeded and seeded["lever"] in LEVERS:
        lever, seed = seeded["lever"], {"seed": int(seeded["seed"])}
    else:
        raise argparse.ArgumentTypeError(
            f"unknown lever {name!r}; levers: {', '.join(LEVERS)}, each optionally followed by -seedN")
    return {**MEASURED_AGAINST, **LEVERS[lever], **seed}


def _lever_name(name: str) -> str:
    lever_settings(name)  # argparse reports the error with the option's name
    return name


#: The files of a finished run that are kept in the repository: what an ensemble needs.
KEPT_PREDICTIONS = ("predictions_validation.csv", "predictions_test.csv")


def keep_predictions(run_dir: Path, kept_dir: Path) -> None:
    """Copy a finished run's validation and test predictions from ``run_dir`` into ``kept_dir``, as they are."""
    for name in KEPT_PREDICTIONS:
        write_text(kept_dir / name, (run_dir / name).read_text())


def run_lever(metadata, model: str, lever: str, runs_dir: Path, preset: str,
              predictions_dir: Path | None = None) -> list[dict]:
    """Train (or read back) the six actor folds of one lever; one row per fold.

    With ``predictions_dir``, each fold's predictions are kept there too (:func:`keep_predictions`).
    """
    config = preset_config(preset, model, **lever_settings(lever))
    rows = []
    for fold in range(NUM_FOLDS):
        run_dir = runs_dir / lever / run_file_name(model, "actor_cv", fold)
        if (run_dir / "metrics.json").is_file():
            result = json.loads((run_dir / "metrics.json").read_text())
        else:
            result = train(model, make_split(metadata, "actor_cv", fold=fold), config, run_dir=run_dir, verbose=0,
                           description={"preset": preset, "protocol": "actor_cv", "fold": fold, "lever": lever})
        if predictions_dir is not None:
            keep_predictions(run_dir, predictions_dir / lever / run_dir.name)
        rows.append({"model": model, "lever": lever, "fold": fold,
                     "val_f1_macro": round(result["validation"]["f1_macro"], 4),
                     "test_f1_macro": round(result["test"]["f1_macro"], 4),
                     "test_accuracy": round(result["test"]["accuracy"], 4),
                     "best_epoch": result["best_epoch"], "epochs": result["epochs"],
                     "train_seconds": result["train_seconds"]})
        logging.info("%s %s fold %d: validation %.3f, test %.3f", model, lever, fold,
                     rows[-1]["val_f1_macro"], rows[-1]["test_f1_macro"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="transformer")
    parser.add_argument("--levers", nargs="+", default=["recipe"], type=_lever_name,
                        help="levers to train (default: recipe); NAME-seedN trains NAME with seed N")
    parser.add_argument("--preset", default="full")
    parser.add_argument("--data-dir", default=None, help="RAVDESS folder (default: $RAVDESS_ROOT or ./data)")
    parser.add_argument("--runs-dir", default="runs/levers")
    parser.add_argument("--out", default="results/ablation.csv")
    parser.add_argument("--predictions-dir", default="results/levers",
                        help="where each fold's validation and test predictions are kept (default: results/levers)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", force=True)  # TensorFlow set one up
    metadata = load_or_download(args.data_dir)
    out = Path(args.out)
    for lever in args.levers:
        rows = pd.DataFrame(run_lever(metadata, args.model, lever, Path(args.runs_dir), args.preset,
                                      Path(args.predictions_dir)))
        table = pd.read_csv(out) if out.is_file() else rows.iloc[:0]
        table = table[~((table["model"] == args.model) & (table["lever"] == lever))]
        write_csv(out, pd.concat([table, rows], ignore_index=True))
    table = pd.read_csv(out)
    summary = table[table["model"] == args.model].groupby("lever", sort=False)[
        ["val_f1_macro", "test_f1_macro", "test_accuracy", "best_epoch"]].mean()
    print(summary.round(3).to_string())


if __name__ == "__main__":
    main()
