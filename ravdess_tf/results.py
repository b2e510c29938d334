"""A run's identity, and a study's results read back as tidy tables.

Every run of a study is identified by :data:`RUN_IDENTITY`: the preset that
trained it, the model, the front-end (``features``), the protocol, the fold
and the seed. Two runs can share a model name and differ in their front-end
(the log-mel ``transformer`` and the ``transformer`` head on Whisper
features), so nothing here groups by model name alone: runs that differ only
in fold and seed form one *configuration* (:data:`CONFIGURATION`), whose
folds are averaged in tables and pooled in confusion matrices.

A results folder (``results/full``) holds ``metrics.csv``, one row per run
with its identity, its test metrics and the path of its test predictions
under ``predictions/``; :func:`load_results` reads it back, and tables,
figures, notebooks and the README writer all start from there.

Examples
--------
>>> from ravdess_tf.results import load_results
>>> results = load_results("results/full")                        # doctest: +SKIP
>>> results.comparison()[["label", "protocol", "f1_macro", "runs"]]  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import itertools
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .evaluation import METRIC_NAMES, PAPER_TABLE2, bootstrap_interval, compute_metrics, mcnemar
from .exceptions import ParameterError

#: What tells one run from another, in every table, figure and file name.
RUN_IDENTITY = ("preset", "model", "features", "protocol", "fold", "seed")
#: Runs that share these are one configuration: folds (and seeds) are its repeats.
CONFIGURATION = ("preset", "model", "features", "protocol")
#: The columns of ``metrics.csv``: identity, test metrics, where and how the run trained.
METRICS_COLUMNS = [*RUN_IDENTITY, *METRIC_NAMES, "backend", "device", "executor", "epochs", "best_epoch",
                   "train_seconds", "parameters", "predictions"]


def configuration_label(model: str, features: str) -> str:
    """How a configuration is named in figures and tables: ``"transformer, logmel80"``.

    The protocol is left out (it is the figures' other axis); presets that
    share a model and front-end are told apart by :func:`configuration_labels`.
    """
    return f"{model}, {features}"


def configuration_labels(table: pd.DataFrame) -> pd.Series:
    """One label per row of ``table`` (columns ``preset``, ``model``, ``features``), unique per configuration.

    ``"model, features"``; when two presets share a model and front-end
    (``quick`` and ``full`` both use ``logmel80``), the preset is added:
    ``"transformer, logmel80, quick"``.
    """
    base = pd.Series([configuration_label(m, f) for m, f in zip(table["model"], table["features"])],
                     index=table.index, dtype=object)
    presets_per_label = table.groupby(base)["preset"].nunique()
    ambiguous = base.map(presets_per_label) > 1
    return base.where(~ambiguous, base + ", " + table["preset"].astype(str))


def file_slug(*parts) -> str:
    """A file-name-safe join of identity values: ``file_slug("whisper", "pooled", "whisper-base-L2+3+4")``."""
    return "_".join(re.sub(r"[^A-Za-z0-9._-]+", "-", str(part)) for part in parts)


def run_file_name(model: str, protocol: str, fold=None, seed: int = 0) -> str:
    """A run's folder name within its preset: ``transformer-actor_cv-fold2``, ``-seedS`` for seeds other than 0.

    With the preset as the parent folder this names the run uniquely: a preset
    fixes the front-end.
    """
    fold = None if fold in (None, "test") or pd.isna(fold) else int(fold)
    return f"{model}-{protocol}" + (f"-fold{fold}" if fold is not None else "") + (f"-seed{seed}" if seed else "")


@dataclass(frozen=True)
class StudyResults:
    """The results of a study: one row per run, and each run's test predictions.

    Attributes
    ----------
    metrics : pandas.DataFrame
        One row per run, columns :data:`METRICS_COLUMNS` plus ``label`` (see
        :func:`configuration_labels`).
    folder : pathlib.Path
        The results folder; ``predictions`` paths are relative to it.
    """

    metrics: pd.DataFrame
    folder: Path

    def predictions(self) -> pd.DataFrame:
        """Every run's test predictions in one long table, each row with its run's identity and ``label``.

        Columns: ``label``, :data:`RUN_IDENTITY`, then the prediction files'
        own (``clip_id``, ``actor``, ``emotion_id``, ``predicted_id``, ``p_*`` ...).
        """
        return self._predictions.copy()

    @functools.cached_property
    def _predictions(self) -> pd.DataFrame:
        """The prediction files, read once: the tables, intervals and tests below all start from them."""
        tables = []
        for row in self.metrics.itertuples(index=False):
            path = self.folder / row.predictions
            if not path.is_file():
                raise ParameterError(f"{self.folder / 'metrics.csv'} names {row.predictions}, which is missing; "
                                     "write the results again from the runs")
            table = pd.read_csv(path)
            for column in (*reversed(RUN_IDENTITY), "label"):
                table.insert(0, column, getattr(row, column))
            tables.append(table)
        return pd.concat(tables, ignore_index=True)

    def pooled_predictions(self) -> dict[tuple[str, str], pd.DataFrame]:
        """Test predictions pooled over each configuration's runs, keyed by ``(label, protocol)``.

        Under ``actor_cv`` every actor is tested once, so the pooled table
        covers all clips once.
        """
        return {key: part.reset_index(drop=True)
                for key, part in self._predictions.groupby(["label", "protocol"], sort=False)}

    def of_model(self, model: str, preset: str | None = None) -> "StudyResults":
        """The runs of one architecture (every front-end and protocol), optionally of one preset only.

        Raises
        ------
        ParameterError
            If no run matches.
        """
        keep = self.metrics["model"] == model
        if preset is not None:
            keep &= self.metrics["preset"] == preset
        if not keep.any():
            raise ParameterError(f"{self.folder} has no runs of model {model!r}"
                                 + (f" under preset {preset!r}" if preset else "")
                                 + f"; its models: {', '.join(dict.fromkeys(self.metrics['model']))}")
        return StudyResults(self.metrics[keep].reset_index(drop=True), self.folder)

    def history_figures(self, figures_dir: str | os.PathLike) -> list[Path]:
        """The committed training-curve figures of these configurations that exist in ``figures_dir``
        (``history_PRESET_MODEL_FEATURES_PROTOCOL.png``, as :func:`ravdess_tf.report.write_report` names them)."""
        paths = [Path(figures_dir) / f"history_{file_slug(*key)}.png"
                 for key in dict.fromkeys(zip(*(self.metrics[c] for c in CONFIGURATION)))]
        return [path for path in paths if path.is_file()]

    def comparison(self) -> pd.DataFrame:
        """Mean test metrics per configuration beside the study's Table 2: see :func:`summarize`."""
        return summarize(self.metrics)

    def bootstrap_intervals(self, metric: str = "f1_macro", n_resamples: int = 1000, seed: int = 0) -> pd.DataFrame:
        """``metric`` of each configuration's pooled test predictions with a 95 % bootstrap interval.

        Columns ``label``, ``protocol``, ``clips``, ``metric``, ``low``, ``high``.
        Clips of one actor are not independent: on actor protocols the interval is optimistic.
        """
        rows = []
        for (label, protocol), table in self.pooled_predictions().items():
            low, high = bootstrap_interval(table.emotion_id, table.predicted_id, metric, n_resamples=n_resamples,
                                           seed=seed)
            rows.append({"label": label, "protocol": protocol, "clips": len(table),
                         metric: compute_metrics(table.emotion_id, table.predicted_id)[metric],
                         "low": low, "high": high})
        return pd.DataFrame(rows)

    def mcnemar_tests(self) -> pd.DataFrame:
        """Exact McNemar test of every pair of configurations tested on the same clips of one protocol.

        Columns ``protocol``, ``A``, ``B``, ``only_a``, ``only_b``, ``p_value``.
        Pairs whose test clips differ (random splits of different seeds) are left out.
        """
        pooled = {key: table.sort_values("clip_id", ignore_index=True)
                  for key, table in self.pooled_predictions().items()}
        rows = []
        for (a, protocol_a), (b, protocol_b) in itertools.combinations(pooled, 2):
            first, second = pooled[(a, protocol_a)], pooled[(b, protocol_b)]
            if protocol_a != protocol_b or not first.clip_id.equals(second.clip_id):
                continue
            rows.append({"protocol": protocol_a, "A": a, "B": b,
                         **mcnemar(first.emotion_id == first.predicted_id, second.emotion_id == second.predicted_id)})
        return pd.DataFrame(rows, columns=["protocol", "A", "B", "only_a", "only_b", "p_value"])


def tidy_metrics(metrics: pd.DataFrame) -> pd.DataFrame:
    """Check and order a table of runs (the rows of ``metrics.csv``); adds ``label``.

    ``fold`` becomes text (``"test"`` or ``"0"``...``"5"``), ``seed`` an integer.

    Raises
    ------
    ParameterError
        If an identity column is missing or two rows share an identity.
    """
    missing = [c for c in RUN_IDENTITY if c not in metrics]
    if missing:
        raise ParameterError(f"the runs' table has no column {', '.join(missing)}; every run needs its identity "
                             f"({', '.join(RUN_IDENTITY)})")
    metrics = metrics.copy()
    metrics["fold"] = metrics["fold"].astype(str)
    metrics["seed"] = metrics["seed"].astype(int)
    duplicated = metrics.duplicated(list(RUN_IDENTITY), keep=False)
    if duplicated.any():
        first = metrics[duplicated].iloc[0]
        raise ParameterError("two runs share one identity: " + ", ".join(f"{c}={first[c]}" for c in RUN_IDENTITY))
    metrics["label"] = configuration_labels(metrics)
    return metrics


def load_results(folder: str | os.PathLike) -> StudyResults:
    """Read a results folder written by :func:`ravdess_tf.report.write_results`.

    Parameters
    ----------
    folder : path
        A folder with ``metrics.csv`` and ``predictions/``, e.g. ``results/full``.

    Returns
    -------
    StudyResults
    """
    folder = Path(folder)
    path = folder / "metrics.csv"
    if not path.is_file():
        raise ParameterError(f"{folder} has no metrics.csv; point at a results folder (e.g. results/full) "
                             "or run `ravdess-tf study` first")
    return StudyResults(tidy_metrics(pd.read_csv(path, dtype={"fold": str})), folder)


def summarize(metrics: pd.DataFrame) -> pd.DataFrame:
    """Mean test metrics per configuration, with the study's Table 2 beside the log-mel rows.

    Parameters
    ----------
    metrics : pandas.DataFrame
        One row per run with :data:`RUN_IDENTITY` and the test metrics.

    Returns
    -------
    pandas.DataFrame
        One row per (configuration, protocol) in the order first seen:
        :data:`CONFIGURATION`, ``label``, ``runs``, ``folds`` (how many
        distinct folds those runs cover: runs over seeds of one fold count
        once), the mean of ``accuracy``,
        ``precision_macro``, ``recall_macro`` and ``f1_macro``,
        ``f1_macro_std`` (over folds and seeds; 0 for one run) and
        ``paper_*``, the study's reported values for the same architecture,
        given only for spectrogram front-ends (the study used those).
    """
    metrics = metrics if "label" in metrics else tidy_metrics(metrics)
    columns = ["accuracy", "precision_macro", "recall_macro", "f1_macro"]
    grouped = metrics.groupby([*CONFIGURATION, "label"], sort=False)
    table = grouped[columns].mean()
    table["f1_macro_std"] = grouped["f1_macro"].std().fillna(0.0)
    table.insert(0, "folds", grouped["fold"].nunique())
    table.insert(0, "runs", grouped.size())
    table = table.reset_index()
    paper = PAPER_TABLE2.rename(columns={c: f"paper_{c}" for c in PAPER_TABLE2.columns if c != "model"})
    table = table.merge(paper, on="model", how="left")
    spectrogram = table["features"].str.startswith(("logmel", "mfcc"))
    table.loc[~spectrogram, list(paper.columns[1:])] = np.nan
    return table


@dataclass(frozen=True)
class RunReport:
    """What :func:`evaluate_run` found in one run folder.

    Attributes
    ----------
    metrics : pandas.DataFrame
        One row: :func:`ravdess_tf.evaluation.compute_metrics` of the split.
    per_class : pandas.DataFrame
        Precision, recall, F1 and support per emotion.
    breakdowns : dict
        ``{"intensity" | "gender" | "actor": table}``: clips, accuracy and macro-F1 per group.
    clips : int
        Clips in the split.
    figures_dir : pathlib.Path
        Where the confusion matrices (and the training curves) were drawn.
    """

    metrics: pd.DataFrame
    per_class: pd.DataFrame
    breakdowns: dict
    clips: int
    figures_dir: Path

    def tables(self) -> list[pd.DataFrame]:
        """The tables in reading order: metrics, per emotion, then each breakdown."""
        return [self.metrics, self.per_class, *self.breakdowns.values()]


def evaluate_run(run_dir: str | os.PathLike, split: str = "test", figures_dir=None) -> RunReport:
    """Metrics, per-emotion report, breakdowns and figures of one finished training run.

    Parameters
    ----------
    run_dir : path
        A folder written by :func:`ravdess_tf.training.train`.
    split : {"test", "validation"}
        Whose predictions to evaluate.
    figures_dir : path or None
        Where figures go; ``None`` means ``run_dir/figures``.

    Returns
    -------
    RunReport
    """
    from .evaluation import breakdown, per_class_report
    from .plots import plot_confusion, plot_history, save_figure

    if split not in ("test", "validation"):
        raise ParameterError(f"split must be 'test' or 'validation', got {split!r}")
    run_dir = Path(run_dir)
    predictions_path = run_dir / f"predictions_{split}.csv"
    if not predictions_path.is_file():
        raise ParameterError(f"{str(run_dir)!r} has no {predictions_path.name}: is it a finished training run?")
    predictions = pd.read_csv(predictions_path)
    y_true, y_pred = predictions["emotion_id"], predictions["predicted_id"]
    figures_dir = Path(figures_dir) if figures_dir is not None else run_dir / "figures"
    for normalize in (False, True):
        name = f"confusion_{split}_{'normalised' if normalize else 'counts'}.png"
        save_figure(plot_confusion(y_true, y_pred, normalize=normalize), figures_dir / name)
    if (run_dir / "history.csv").is_file():
        history = pd.read_csv(run_dir / "history.csv")
        if "loss" in history:  # a linear head fitted exactly has one row per C, no epochs
            save_figure(plot_history(history), figures_dir / "history.png")
    return RunReport(
        metrics=pd.DataFrame([compute_metrics(y_true, y_pred)]),
        per_class=per_class_report(y_true, y_pred).reset_index(names="emotion"),
        breakdowns={by: breakdown(predictions, by)[[by, "clips", "accuracy", "f1_macro"]]
                    for by in ("intensity", "gender", "actor")},
        clips=len(predictions), figures_dir=figures_dir)
