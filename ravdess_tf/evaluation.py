"""Metrics, breakdowns and tables, computed with scikit-learn.

The study reports accuracy, precision, recall and F1 (Table 2) without saying
how the per-class values were averaged; this module reports both macro
(every emotion counts the same; neutral has half the clips of the others) and
weighted averages, and breaks results down by intensity, gender and actor.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .data import EMOTIONS
from .exceptions import ParameterError

#: Table 2 of Aryono et al. (2024): their random 960/240/240 split, fractions.
PAPER_TABLE2 = pd.DataFrame(
    [
        ("alexnet", 0.784, 0.791, 0.780, 0.785),
        ("resnet50", 0.836, 0.840, 0.832, 0.836),
        ("inception_v3", 0.812, 0.817, 0.809, 0.813),
        ("vgg16", 0.850, 0.855, 0.848, 0.851),
        ("vgg19", 0.855, 0.859, 0.852, 0.856),
        ("lstm", 0.798, 0.802, 0.795, 0.799),
        ("transformer", 0.873, 0.877, 0.870, 0.874),
    ],
    columns=["model", "accuracy", "precision", "recall", "f1"],
)

METRIC_NAMES = ("accuracy", "precision_macro", "recall_macro", "f1_macro",
                "precision_weighted", "recall_weighted", "f1_weighted")

#: The class-probability columns of a predictions table, in the order of ``EMOTIONS``.
PROBABILITY_COLUMNS = tuple(f"p_{emotion}" for emotion in EMOTIONS)


def _labels(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ParameterError(
            f"y_true and y_pred must be 1-D label arrays of the same length, got shapes "
            f"{y_true.shape} and {y_pred.shape}")
    if len(y_true) == 0:
        raise ParameterError("y_true is empty: there is nothing to evaluate")
    return y_true, y_pred


def compute_metrics(y_true, y_pred) -> dict[str, float]:
    """Accuracy and macro / weighted precision, recall and F1, as fractions in 0..1.

    Averages run over the classes present in ``y_true`` or ``y_pred``
    (scikit-learn's default), so a subset without a class (strong intensity
    has no neutral clips) is not marked down for it, while predicting a class
    that is absent still counts as an error. A class never predicted has
    precision 0 (``zero_division=0``).
    """
    from sklearn.metrics import precision_recall_fscore_support  # deferred: scikit-learn takes 0.6 s to import

    y_true, y_pred = _labels(y_true, y_pred)
    metrics = {"accuracy": float((y_true == y_pred).mean())}
    for average in ("macro", "weighted"):
        precision, recall, f1, _ = precision_recall_fscore_support(
            y_true, y_pred, average=average, zero_division=0)
        metrics.update({f"precision_{average}": float(precision), f"recall_{average}": float(recall),
                        f"f1_{average}": float(f1)})
    return metrics


def per_class_report(y_true, y_pred, class_names=EMOTIONS) -> pd.DataFrame:
    """Precision, recall, F1 and support of every class (rows named by emotion)."""
    from sklearn.metrics import classification_report

    y_true, y_pred = _labels(y_true, y_pred)
    report = classification_report(y_true, y_pred, labels=np.arange(len(class_names)),
                                   target_names=list(class_names), output_dict=True, zero_division=0)
    return pd.DataFrame({name: report[name] for name in class_names}).T


def confusion(y_true, y_pred, num_classes: int = len(EMOTIONS), normalize: bool = False) -> np.ndarray:
    """Confusion matrix (rows: true class, columns: predicted); ``normalize`` divides each row by its total."""
    from sklearn.metrics import confusion_matrix

    y_true, y_pred = _labels(y_true, y_pred)
    return confusion_matrix(y_true, y_pred, labels=np.arange(num_classes),
                            normalize="true" if normalize else None)


def breakdown(predictions: pd.DataFrame, by: str) -> pd.DataFrame:
    """Metrics per group of a predictions table (e.g. by ``intensity``, ``gender`` or ``actor``).

    ``predictions`` needs the columns ``emotion_id`` (true), ``predicted_id``
    and ``by``. Returns one row per group with ``clips`` and the metrics.
    """
    for column in ("emotion_id", "predicted_id", by):
        if column not in predictions:
            raise ParameterError(f"predictions has no column {column!r}; columns: {', '.join(predictions)}")
    rows = []
    for group, part in predictions.groupby(by, sort=True):
        rows.append({by: group, "clips": len(part), **compute_metrics(part["emotion_id"], part["predicted_id"])})
    return pd.DataFrame(rows)


def predictions_table(rows: pd.DataFrame, probabilities: np.ndarray) -> pd.DataFrame:
    """Metadata of each clip with its predicted class and class probabilities."""
    columns = [c for c in ("clip_id", "actor", "gender", "emotion", "emotion_id", "intensity", "statement",
                           "repetition") if c in rows]
    table = rows[columns].reset_index(drop=True).copy()
    table["predicted_id"] = probabilities.argmax(axis=1)
    table["predicted"] = [EMOTIONS[i] for i in table["predicted_id"]]
    for index, column in enumerate(PROBABILITY_COLUMNS):
        table[column] = probabilities[:, index].round(5)
    return table


def average_predictions(tables) -> pd.DataFrame:
    """Soft-voting ensemble: the mean of several models' class probabilities for the same clips.

    Parameters
    ----------
    tables : sequence of pandas.DataFrame
        Two or more predictions tables as :func:`ravdess_tf.training.train` writes them
        (``predictions_test.csv``): one row per clip, ``clip_id``, ``emotion_id`` and one ``p_<emotion>``
        column per emotion, each row summing to 1. An SVM's ``p_*`` are a decision, not probabilities:
        leave it out.

    Returns
    -------
    pandas.DataFrame
        A :func:`predictions_table`: the first table's clips and their metadata in its order, ``p_*``
        the mean over the tables and ``predicted_id`` / ``predicted`` their argmax.

    Examples
    --------
    >>> a = pd.DataFrame({"clip_id": ["x"], "emotion_id": [3], **{f"p_{e}": [0.0] for e in EMOTIONS}})
    >>> b = a.copy()
    >>> a["p_sad"], b["p_sad"], b["p_angry"] = 1.0, 0.4, 0.6
    >>> average_predictions([a, b])[["predicted", "p_sad", "p_angry"]].to_dict("records")
    [{'predicted': 'sad', 'p_sad': 0.7, 'p_angry': 0.3}]
    """
    tables = list(tables)
    if len(tables) < 2:
        raise ParameterError(f"an ensemble needs two or more predictions tables, got {len(tables)}")
    for number, table in enumerate(tables):
        missing = [c for c in ("clip_id", "emotion_id", *PROBABILITY_COLUMNS) if c not in table]
        if missing:
            raise ParameterError(f"predictions table {number} lacks the columns {missing}: pass the "
                                 f"predictions_*.csv tables that training writes")
    first = tables[0].set_index("clip_id", drop=False)
    if not first.index.is_unique:
        raise ParameterError("predictions table 0 lists a clip more than once")
    probabilities = []
    for number, table in enumerate(tables):
        table = table.set_index("clip_id")
        if len(table) != len(first) or set(table.index) != set(first.index):
            raise ParameterError(f"predictions table {number} covers other clips than table 0 ({len(table)} "
                                 f"and {len(first)} clips): an ensemble averages models on the same clips")
        if not (table.loc[first.index, "emotion_id"].to_numpy() == first["emotion_id"].to_numpy()).all():
            raise ParameterError(f"predictions table {number} labels some clips differently from table 0")
        probabilities.append(table.loc[first.index, list(PROBABILITY_COLUMNS)].to_numpy(float))
    return predictions_table(first, np.mean(probabilities, axis=0))


def to_markdown(table: pd.DataFrame, float_format: str = "{:.3f}") -> str:
    """A Markdown table (pandas' own needs the optional ``tabulate`` package)."""
    def cell(value):
        if isinstance(value, (float, np.floating)):
            return "" if np.isnan(value) else float_format.format(value)
        return str(value)

    lines = ["| " + " | ".join(map(str, table.columns)) + " |",
             "|" + "|".join("---" for _ in table.columns) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)


def mcnemar(correct_a, correct_b) -> dict[str, float]:
    """Exact McNemar test of two classifiers on the same clips.

    Parameters
    ----------
    correct_a, correct_b : array of bool
        Whether each model got each clip right (same clips, same order).

    Returns
    -------
    dict
        ``only_a`` and ``only_b`` (clips one model got right and the other
        wrong) and the two-sided exact ``p_value`` (binomial test of the
        discordant pairs against 1/2).
    """
    from scipy.stats import binomtest

    correct_a, correct_b = np.asarray(correct_a, bool), np.asarray(correct_b, bool)
    if correct_a.shape != correct_b.shape:
        raise ParameterError(f"both models must be scored on the same clips, got {correct_a.shape} and "
                             f"{correct_b.shape}")
    only_a = int((correct_a & ~correct_b).sum())
    only_b = int((~correct_a & correct_b).sum())
    p_value = 1.0 if only_a + only_b == 0 else float(binomtest(only_a, only_a + only_b, 0.5).pvalue)
    return {"only_a": only_a, "only_b": only_b, "p_value": p_value}


def metrics_of_confusions(counts: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`compute_metrics` of a stack of confusion matrices at once.

    scikit-learn scores one pair of label arrays per call (about 1 ms); a bootstrap needs
    thousands of them, so this computes the same values from the counts with array
    arithmetic (a test checks it against :func:`compute_metrics`).

    Parameters
    ----------
    counts : numpy.ndarray, shape (..., n_classes, n_classes)
        Clip counts, rows the true class and columns the predicted one.

    Returns
    -------
    dict of str to numpy.ndarray
        Every name of ``METRIC_NAMES``, each of shape ``counts.shape[:-2]``. As in
        :func:`compute_metrics`, averages run over the classes that are true or predicted at
        least once, and a ratio with a zero denominator is 0.
    """
    counts = np.asarray(counts, dtype=float)
    support, predicted, hits = counts.sum(-1), counts.sum(-2), np.diagonal(counts, axis1=-2, axis2=-1)
    present = (support + predicted) > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, hits / predicted, 0.0)
        recall = np.where(support > 0, hits / support, 0.0)
        f1 = np.where(support + predicted > 0, 2 * hits / (support + predicted), 0.0)
    clips = support.sum(-1)
    metrics = {"accuracy": hits.sum(-1) / clips}
    for name, per_class in (("precision", precision), ("recall", recall), ("f1", f1)):
        metrics[f"{name}_macro"] = (per_class * present).sum(-1) / present.sum(-1)
        metrics[f"{name}_weighted"] = (per_class * support).sum(-1) / clips
    return {name: metrics[name] for name in METRIC_NAMES}


def bootstrap_interval(y_true, y_pred, metric: str = "f1_macro", n_resamples: int = 1000,
                       confidence: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of one :func:`compute_metrics` value.

    Clips are resampled with replacement ``n_resamples`` times. Clips of one
    actor are not independent, so on an actor split the interval is optimistic.

    Raises
    ------
    ParameterError
        If ``metric`` is not one of ``METRIC_NAMES``, ``n_resamples`` is below 1 or
        ``confidence`` is not between 0 and 1.
    """
    y_true, y_pred = _labels(y_true, y_pred)
    if metric not in METRIC_NAMES:
        raise ParameterError(f"metric must be one of {', '.join(METRIC_NAMES)}, got {metric!r}")
    if not isinstance(n_resamples, (int, np.integer)) or n_resamples < 1:
        raise ParameterError(f"n_resamples must be a whole number of at least 1, got {n_resamples!r}")
    if not 0 < confidence < 1:
        raise ParameterError(f"confidence must be a fraction between 0 and 1 (0.95 for 95 %), got {confidence!r}")
    classes, codes = np.unique(np.concatenate([y_true, y_pred]), return_inverse=True)
    true_codes, predicted_codes = codes[:len(y_true)], codes[len(y_true):]
    n_classes = len(classes)
    rows = np.random.default_rng(seed).integers(0, len(y_true), (n_resamples, len(y_true)))
    # One bincount over (resample, true class, predicted class) cells counts every resample's matrix.
    cells = (np.arange(n_resamples)[:, None] * n_classes + true_codes[rows]) * n_classes + predicted_codes[rows]
    counts = np.bincount(cells.ravel(), minlength=n_resamples * n_classes ** 2)
    values = metrics_of_confusions(counts.reshape(n_resamples, n_classes, n_classes))[metric]
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)
