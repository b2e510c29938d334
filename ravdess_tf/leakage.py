"""What inflates a RAVDESS score: one model under an honest evaluation and under the shortcuts public
notebooks take, one step at a time.

Each condition is a way of splitting the clips and of scaling the features (:data:`CONDITIONS`):

``actor_cv``
    Honest: six folds of four actors (:func:`ravdess_tf.splits.actor_folds`); no speaker is in two parts,
    the scaler is fitted on training clips.
``random``
    The study's random 960/240/240 split, stratified by emotion: no clip is in two parts, but every actor
    is in all three, so a model can score by knowing the voice.
``random+scaled_on_all``
    As ``random``, with the feature scaler fitted on all 1440 clips before the split (test clips'
    statistics shape the training input).
``augmented+random``
    Every clip and its augmented copies (:data:`AUGMENTATIONS`: noise, pitch) are pooled first and the
    pool is then split at random: a test clip's copies are in training, a near duplicate of the answer.
``augmented+random+scaled_on_all``
    Both shortcuts, as many public notebooks do them.

The same model and recipe run under every condition (:func:`run_leakage`); only the split and the
scaler change. Models are the networks of a preset (:func:`ravdess_tf.training.preset_config`) and
``"svm"``, a classical baseline: an RBF support-vector machine on each log-mel band's mean and standard
deviation over time, its C chosen on the validation part.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

from .atomic import write_csv
from .augmentation import AUGMENTATIONS, augment_clip, augmented_features
from .evaluation import compute_metrics
from .exceptions import ParameterError
from .features import extract_features
from .pipeline import Normalizer, fit_normalizer
from .splits import NUM_FOLDS, SPLIT_NAMES, actor_folds, paper_split
from .training.baseline import clip_statistics, fit_svm

logger = logging.getLogger(__name__)

CONDITIONS = ("actor_cv", "random", "random+scaled_on_all", "augmented+random", "augmented+random+scaled_on_all")
#: The columns of one result row.
COLUMNS = ("model", "condition", "fold", "seed", "train_rows", "test_rows", "test_with_copy_in_train",
           "accuracy", "f1_macro", "choice", "seconds")


def pooled_rows(metadata: pd.DataFrame, copies: int) -> pd.DataFrame:
    """The metadata repeated once per copy (0 = the original clip), with a ``copy`` and a ``source`` column
    (the clip's row in ``metadata``); the index is ``copy * len(metadata) + source``."""
    blocks = []
    for copy in range(copies):
        block = metadata.reset_index(drop=True).assign(copy=copy, source=np.arange(len(metadata)))
        block.index = block["source"] + copy * len(metadata)
        blocks.append(block)
    return pd.concat(blocks)


def _check_conditions(conditions) -> None:
    unknown = [c for c in conditions if c not in CONDITIONS]
    if unknown:
        raise ParameterError(f"Unknown condition {unknown[0]!r}; valid: {', '.join(CONDITIONS)}")


def condition_splits(metadata: pd.DataFrame, condition: str, seed: int = 0) -> list[dict[str, pd.DataFrame]]:
    """The splits of one condition, over :func:`pooled_rows` (one split, or one per actor fold).

    Each part's index picks rows of the pooled features (``copy * clips + source``).
    """
    _check_conditions([condition])
    if condition == "actor_cv":
        return actor_folds(pooled_rows(metadata, 1), NUM_FOLDS)
    copies = 1 + len(AUGMENTATIONS) if condition.startswith("augmented") else 1
    return [paper_split(pooled_rows(metadata, copies), seed=seed)]


def copy_in_training(split: dict[str, pd.DataFrame]) -> float:
    """Fraction of test rows of which another copy of the same clip is in training."""
    return float(split["test"]["source"].isin(set(split["train"]["source"])).mean())


def _fit_network(model_name: str, config, feature_config, x: dict, y: dict, normalizer: Normalizer, run_dir: Path):
    """Train a network with the study's own loop (:func:`ravdess_tf.training.fit.fit_network`), resumable,
    and return the function of features its kept model gives probabilities with, and the epoch kept."""
    from .training import selected_model
    from .training.fit import fit_network

    run_dir.mkdir(parents=True, exist_ok=True)
    if not (run_dir / "selection.json").is_file() or not (run_dir / "best.keras").is_file() or \
            (run_dir / "backup").exists():
        fit_network(model_name, config, feature_config, x, y, normalizer, run_dir, callbacks=None, verbose=0)
    probabilities, _, _ = selected_model(run_dir, model_name, normalizer)
    return probabilities, f"epoch {json.loads((run_dir / 'selection.json').read_text())['best_epoch']}"


def run_leakage(metadata: pd.DataFrame, models=("svm",), conditions=CONDITIONS, *, preset: str = "full",
                seed: int = 0, out_dir, runs_dir=None, cache_dir=None, progress: bool = True) -> pd.DataFrame:
    """Train and test every model under every condition; one row per (model, condition, fold).

    Rows are appended to ``out_dir/leakage.csv`` as they finish and a second call skips them, so an
    interrupted experiment resumes (networks also resume mid-training from their run folders).

    Parameters
    ----------
    metadata : pandas.DataFrame
        All 1440 clips (:func:`ravdess_tf.load_metadata`).
    models : sequence of str
        ``"svm"`` and/or network names of ``preset``.
    conditions : sequence of str
        A subset of :data:`CONDITIONS`.
    preset : str
        The recipe of the networks and the features of every model (the ``full`` preset's log-mel).
    seed : int
        Seed of the random splits, the augmentation and the training.
    out_dir : path
        Where ``leakage.csv`` goes.
    runs_dir : path or None
        Where the networks' run folders go (their models are large: keep them out of a results
        folder); ``None`` means ``out_dir/runs``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`; ``test_with_copy_in_train`` is :func:`copy_in_training`.
    """
    from .training import preset_config

    _check_conditions(conditions)  # at the door, before any features are made
    # The conditions alone decide which augmented copies are in training, so the recipe adds none of its own.
    configs = {name: preset_config(preset, "transformer" if name == "svm" else name, seed=seed, augmented_copies=False)
               for name in models}
    feature_config = next(iter(configs.values())).feature_config()
    if any(c.feature_config() != feature_config for c in configs.values()):
        raise ParameterError(f"preset {preset!r} gives its models different features; the experiment needs one")
    out_dir = Path(out_dir)
    runs_dir = Path(runs_dir) if runs_dir is not None else out_dir / "runs"
    out_dir.mkdir(parents=True, exist_ok=True)
    table_path = out_dir / "leakage.csv"
    records = pd.read_csv(table_path).to_dict("records") if table_path.is_file() else []
    done = {(r["model"], r["condition"], int(r["fold"]), int(r["seed"])) for r in records}

    needs_copies = any(c.startswith("augmented") for c in conditions)
    blocks = augmented_features(metadata, feature_config, seed=seed, cache_dir=cache_dir, progress=progress) \
        if needs_copies else extract_features(metadata, feature_config, cache_dir=cache_dir, progress=progress)[None]
    pooled = blocks.reshape(-1, *blocks.shape[2:])  # row copy * clips + source
    for condition in conditions:
        for fold, split in enumerate(condition_splits(metadata, condition, seed)):
            for name in models:
                if (name, condition, fold, seed) in done:
                    continue
                start = time.perf_counter()
                x = {part: pooled[split[part].index.to_numpy()] for part in SPLIT_NAMES}
                y = {part: split[part]["emotion_id"].to_numpy(np.int32) for part in SPLIT_NAMES}
                scaled_on_all = condition.endswith("scaled_on_all")
                used_rows = np.sort(np.concatenate([split[p].index.to_numpy() for p in SPLIT_NAMES]))
                if name == "svm":
                    stats = {part: clip_statistics(x[part]) for part in SPLIT_NAMES}
                    scaler_rows = clip_statistics(pooled[used_rows]) if scaled_on_all else stats["train"]
                    svm, history = fit_svm(stats, y, scaler_rows=scaler_rows, seed=seed)
                    predicted = svm.predict(stats["test"])
                    choice = f"C={history.loc[history.val_macro_f1.idxmax(), 'C']:g}"
                else:
                    normalizer = fit_normalizer(pooled[used_rows] if scaled_on_all else x["train"])
                    run_dir = runs_dir / f"{name}-{condition}-fold{fold}-seed{seed}"
                    probabilities, choice = _fit_network(name, configs[name], feature_config, x, y, normalizer,
                                                         run_dir)
                    predicted = probabilities(x["test"]).argmax(axis=1)
                metrics = compute_metrics(y["test"], predicted)
                row = {"model": name, "condition": condition, "fold": fold, "seed": seed,
                       "train_rows": len(split["train"]), "test_rows": len(split["test"]),
                       "test_with_copy_in_train": round(copy_in_training(split), 4),
                       "accuracy": round(metrics["accuracy"], 4), "f1_macro": round(metrics["f1_macro"], 4),
                       "choice": choice, "seconds": round(time.perf_counter() - start, 1)}
                logger.info("%s %s fold %d: macro-F1 %.3f", name, condition, fold, metrics["f1_macro"])
                records.append(row)
                write_csv(table_path, pd.DataFrame(records, columns=list(COLUMNS)))
    return pd.DataFrame(records, columns=list(COLUMNS))


def leakage_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation of test macro-F1 and accuracy per model and condition (over folds and
    seeds), in the order of :data:`CONDITIONS`, with each condition's gain over ``actor_cv``."""
    if rows.empty:
        raise ParameterError("there are no leakage results to summarise")
    summary = (rows.groupby(["model", "condition"], sort=False)
               .agg(runs=("f1_macro", "size"), f1_macro=("f1_macro", "mean"), f1_sd=("f1_macro", "std"),
                    accuracy=("accuracy", "mean"), test_with_copy_in_train=("test_with_copy_in_train", "mean"))
               .reset_index())
    summary["condition"] = pd.Categorical(summary["condition"], CONDITIONS, ordered=True)
    summary = summary.sort_values(["model", "condition"]).reset_index(drop=True)
    honest = summary[summary["condition"] == "actor_cv"].set_index("model")["f1_macro"]
    summary["gain_over_actor_cv"] = summary["f1_macro"] - summary["model"].map(honest)
    summary["condition"] = summary["condition"].astype(str)
    return summary


__all__ = ["AUGMENTATIONS", "CONDITIONS", "augment_clip", "augmented_features", "condition_splits",
           "copy_in_training", "leakage_summary", "pooled_rows", "run_leakage"]
