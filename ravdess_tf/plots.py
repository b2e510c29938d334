"""Figures: confusion matrices, training curves, per-class F1, model comparison.

Every function draws on a Matplotlib ``Axes`` (a new figure when ``ax`` is
None) and returns the figure; :func:`save_figure` writes it atomically.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from .atomic import atomic_path
from .data import EMOTIONS
from .evaluation import confusion
from .splits import FOLD_PROTOCOLS, NUM_FOLDS


def _axes(ax, size):
    if ax is None:
        figure, ax = plt.subplots(figsize=size)
        return figure, ax
    return ax.figure, ax


def save_figure(figure, path: str | os.PathLike, dpi: int = 120) -> Path:
    """Save a figure as PNG atomically and close it."""
    path = Path(path)
    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=dpi, bbox_inches="tight")
    plt.close(figure)
    return path


def plot_confusion(y_true, y_pred, normalize: bool = False, title: str = "", ax=None):
    """Confusion matrix heat map: counts, or each row as fractions of its true class.

    Drawn with scikit-learn's ``ConfusionMatrixDisplay``, not seaborn's ``heatmap``: the
    latter draws the whole figure once per call to check its tick labels for overlap, so a
    grid of 53 matrices (notebook 10's) drew the figure 53 times, about 3 minutes on a CPU
    core (``benchmarks/bench_plots.py``).
    """
    from sklearn.metrics import ConfusionMatrixDisplay

    figure, ax = _axes(ax, (6, 5))
    display = ConfusionMatrixDisplay(confusion(y_true, y_pred, normalize=normalize), display_labels=EMOTIONS)
    display.plot(ax=ax, cmap="Blues", colorbar=False, values_format=".2f" if normalize else "d",
                 xticks_rotation=45, im_kw={"vmin": 0, "vmax": 1} if normalize else None, text_kw={"size": 8})
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title or ("confusion (row-normalised)" if normalize else "confusion (counts)"))
    return figure


def plot_history(history: pd.DataFrame, title: str = "", ax=None):
    """Training loss and validation loss and macro-F1 by epoch (from ``history.csv``)."""
    figure, ax = _axes(ax, (7, 4))
    epochs = np.arange(1, len(history) + 1)
    ax.plot(epochs, history["loss"], label="training loss")
    if "val_loss" in history:
        ax.plot(epochs, history["val_loss"], label="validation loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    if "val_macro_f1" in history:
        right = ax.twinx()
        right.plot(epochs, history["val_macro_f1"], color="tab:green", label="validation macro-F1")
        right.set_ylabel("macro-F1")
        right.set_ylim(0, 1)
        right.legend(loc="upper right")
    ax.legend(loc="upper left")
    ax.set_title(title or "training curves")
    return figure


def plot_per_class_f1(report: pd.DataFrame, title: str = "", ax=None):
    """Bars of per-class F1 from :func:`ravdess_tf.evaluation.per_class_report`.

    ``report`` may also be a table with one column per model (rows: emotions).
    """
    figure, ax = _axes(ax, (8, 4))
    table = report[["f1-score"]].rename(columns={"f1-score": "F1"}) if "f1-score" in report else report
    table.plot.bar(ax=ax, rot=30, width=0.8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("F1")
    ax.set_title(title or "F1 per emotion")
    return figure


def plot_confusions(results, columns: int = 3):
    """Row-normalised test confusion matrices of every configuration of a
    :class:`~ravdess_tf.results.StudyResults` (folds pooled), one panel each."""
    pooled = results.pooled_predictions()
    rows = -(-len(pooled) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(5 * columns, 4.3 * rows), squeeze=False)
    for ax, ((label, protocol), table) in zip(axes.flat, pooled.items()):
        runs = table[["fold", "seed"]].drop_duplicates().shape[0]
        plot_confusion(table.emotion_id, table.predicted_id, normalize=True,
                       title=f"{label}\n{protocol}, {runs} run{'s' if runs > 1 else ''}", ax=ax)
    for ax in axes.flat[len(pooled):]:
        ax.axis("off")
    figure.tight_layout()
    return figure


def plot_results_per_emotion(results, ax=None):
    """Test F1 per emotion of every configuration of a :class:`~ravdess_tf.results.StudyResults`
    (folds pooled): one group of bars per emotion, one bar per configuration and protocol."""
    from .evaluation import per_class_report

    table = pd.DataFrame({f"{label} ({protocol})": per_class_report(part.emotion_id, part.predicted_id)["f1-score"]
                          for (label, protocol), part in results.pooled_predictions().items()}).reindex(EMOTIONS)
    figure, ax = _axes(ax, (11, 4))
    plot_per_class_f1(table, title="test F1 per emotion", ax=ax)
    ax.legend(fontsize=8, ncols=2)
    return figure


def plot_comparison(comparison: pd.DataFrame, metric: str = "f1_macro", ax=None):
    """Test ``metric`` per configuration and protocol, beside the study's reported F1 (Table 2).

    Parameters
    ----------
    comparison : pandas.DataFrame
        :func:`ravdess_tf.results.summarize`'s table: one row per
        (configuration, protocol) with ``label``, ``protocol``, ``metric``,
        optionally ``{metric}_std`` (error bars) and ``paper_f1``.
    metric : str
        The column drawn.

    Returns
    -------
    matplotlib.figure.Figure
        One group of bars per configuration label (model and front-end), one
        bar per protocol (its container labelled with the protocol), and a
        bar of the study's reported F1 where it applies. Every bar's height
        is the table's value: configurations are never merged by model name.
        A cross-validation bar that covers fewer folds than the protocol has
        (a study still under way) is marked with its count, "2/6", so that it
        is not read as the mean of all folds; several seeds of one fold count
        as one fold (tables without ``folds`` fall back on ``runs``).
    """
    labels = list(dict.fromkeys(comparison["label"]))
    protocols = list(dict.fromkeys(comparison["protocol"]))
    reported = (comparison.dropna(subset=["paper_f1"]).drop_duplicates("label").set_index("label")["paper_f1"]
                if "paper_f1" in comparison else pd.Series(dtype=float))
    series = [(protocol, comparison[comparison["protocol"] == protocol].set_index("label")) for protocol in protocols]
    figure, ax = _axes(ax, (max(9.0, 0.9 * len(labels) + 2), 4.8))
    width = 0.8 / (len(series) + (not reported.empty))
    positions = np.arange(len(labels))
    any_partial = False
    for index, (protocol, rows) in enumerate(series):
        heights = rows[metric].reindex(labels).to_numpy(float)
        errors = None
        if f"{metric}_std" in rows:  # a spread only where there are several runs
            spread = rows[f"{metric}_std"].where(rows["runs"] > 1) if "runs" in rows else rows[f"{metric}_std"]
            errors = spread.reindex(labels).to_numpy(float)
        ax.bar(positions + index * width, heights, width, yerr=errors, capsize=2, label=protocol)
        coverage = "folds" if "folds" in rows else "runs"
        if protocol in FOLD_PROTOCOLS and coverage in rows:
            folds_run = rows[coverage].reindex(labels).to_numpy(float)
            tops = heights + (np.nan_to_num(errors) if errors is not None else 0)  # above the error bar
            for position, top, count in zip(positions + index * width, tops, folds_run):
                if count < NUM_FOLDS:
                    any_partial = True
                    ax.annotate(f"{count:.0f}/{NUM_FOLDS}", (position, top), xytext=(0, 2),
                                textcoords="offset points", ha="center", va="bottom", fontsize=7)
    if not reported.empty:
        ax.bar(positions + len(series) * width, reported.reindex(labels).to_numpy(float), width,
               label="the study's reported F1", color="0.6")
    bars_per_group = len(series) + (not reported.empty)
    ax.set_xticks(positions + width * (bars_per_group - 1) / 2, labels, rotation=35, ha="right", fontsize=8)
    ax.set_ylim(0, 1.12)  # room for the legend above the bars
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_ylabel(metric.replace("_", " "))
    partial = f"; n/{NUM_FOLDS}: only n folds run so far" if any_partial else ""
    ax.set_title(f"test {metric.replace('_', ' ')} by model, front-end and protocol "
                 f"(CV: mean and sd over folds{partial})")
    ax.legend(fontsize=8, ncol=len(series) + 1, loc="upper center")
    return figure


def plot_saliency(saliency, ax=None):
    """The log-mel spectrogram of the clip a model read, with its occlusion saliency drawn over it.

    Parameters
    ----------
    saliency : ravdess_tf.saliency.Saliency
        From :func:`ravdess_tf.saliency.occlusion_saliency`.

    Returns
    -------
    matplotlib.figure.Figure
        The spectrogram (time in s, mel bands), and on a second y axis the
        fall of the answer's probability when each stretch is silenced: the
        higher the line, the more the answer rests on that stretch.
    """
    from .features import FeatureConfig
    from .spectrogram import SpectrogramExtractor

    figure, ax = _axes(ax, (8, 3.6))
    log_mel = SpectrogramExtractor(FeatureConfig(sample_rate=saliency.sample_rate)).log_mel(saliency.clip)
    seconds = len(saliency.clip) / saliency.sample_rate
    ax.imshow(log_mel, origin="lower", aspect="auto", cmap="magma", extent=(0, seconds, 0, log_mel.shape[0]))
    ax.set_xlabel("time in the clip the model read (s)")
    ax.set_ylabel("mel band")
    importance = ax.twinx()
    centres = saliency.starts + saliency.band_seconds / 2
    importance.fill_between(centres, 0, np.clip(saliency.importance, 0, None), step="mid", color="cyan", alpha=0.35)
    importance.step(centres, saliency.importance, where="mid", color="cyan", linewidth=2)
    importance.axhline(0, color="white", linewidth=0.8, linestyle=":")
    peak = max(0.05, float(np.abs(saliency.importance).max()))
    importance.set_ylim(-peak, 1.05 * peak)
    importance.set_ylabel(f"fall of p({saliency.emotion}) when silenced")
    ax.set_title(f"what the model heard: {saliency.emotion} {saliency.probability:.2f}; "
                 f"each {saliency.band_seconds:.2f} s silenced in turn")
    return figure


def plot_timeline(timeline: pd.DataFrame, ax=None):
    """The emotion over time of a long recording: each window's probabilities.

    Parameters
    ----------
    timeline : pandas.DataFrame
        :meth:`ravdess_tf.inference.EmotionPredictor.timeline`'s table: one
        row per window with ``start_s``, ``end_s``, ``speech``, ``emotion``
        and one probability column per emotion.

    Returns
    -------
    matplotlib.figure.Figure
        One line per emotion at each window's centre; each window's answer
        written above it; windows without speech shaded grey.
    """
    figure, ax = _axes(ax, (8, 3.6))
    centres = (timeline["start_s"] + timeline["end_s"]) / 2
    palette = sns.color_palette("tab10", len(EMOTIONS))
    for colour, emotion in zip(palette, EMOTIONS):
        ax.plot(centres, timeline[emotion], marker="o", markersize=3, color=colour, label=emotion)
    for row, centre in zip(timeline.itertuples(index=False), centres):
        if row.speech:
            ax.text(centre, 1.02, row.emotion, rotation=90, ha="center", va="bottom", fontsize=7)
        else:
            ax.axvspan(row.start_s, row.end_s, color="0.85", zorder=0)
    ax.set_ylim(0, 1.0)
    ax.set_xlim(float(timeline["start_s"].min()), float(timeline["end_s"].max()))
    ax.set_xlabel("time (s), at the centre of each 3 s window")
    ax.set_title("emotion over time: each window's probabilities, its answer above it", pad=40)
    ax.set_ylabel("probability")
    ax.legend(fontsize=7, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.2))
    return figure


def plot_leakage(summary: pd.DataFrame, ax=None):
    """Test macro-F1 of each model under each condition of the leakage experiment, beside the range of
    the study's Table 2 (shaded) and chance (dotted).

    Parameters
    ----------
    summary : pandas.DataFrame
        From :func:`ravdess_tf.leakage.leakage_summary`: ``model``, ``condition``, ``f1_macro``, ``f1_sd``.
    """
    from .evaluation import PAPER_TABLE2

    figure, ax = _axes(ax, (10, 4.5))
    means = summary.pivot(index="condition", columns="model", values="f1_macro")
    spreads = summary.pivot(index="condition", columns="model", values="f1_sd").fillna(0.0)
    order = list(dict.fromkeys(summary["condition"]))
    means, spreads = means.reindex(order), spreads.reindex(order)
    means.plot.bar(ax=ax, yerr=spreads, rot=15, width=0.8, capsize=3)
    ax.axhspan(PAPER_TABLE2["f1"].min(), PAPER_TABLE2["f1"].max(), color="tab:red", alpha=0.15,
               label="the study's Table 2 (F1)")
    ax.axhline(1 / len(EMOTIONS), color="black", linestyle=":", label="chance")
    ax.set_ylim(0, 1)
    ax.set_xlabel("")
    ax.set_ylabel("test macro-F1")
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title("what inflates a RAVDESS score")
    return figure
