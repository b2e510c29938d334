"""The linear ``pooled`` head fitted exactly: a multinomial logistic regression folded into a Keras model."""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd

from ..atomic import atomic_path, write_csv, write_json
from ..data import EMOTIONS
from ..evaluation import compute_metrics
from ..exceptions import ParameterError
from ..models import build_model
from ..splits import SPLIT_NAMES

logger = logging.getLogger(__name__)


#: Inverse L2 strengths the "lbfgs" solver tries (scikit-learn's C, on standardised pooled statistics).
LINEAR_C_GRID = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3)


def fit_logistic_regression(x, y, C: float, *, balanced: bool = True, seed: int = 0):
    """Standardise ``x`` (clips, values) and fit a multinomial logistic regression with inverse L2 strength C.

    Returns the fitted ``(StandardScaler, LogisticRegression)``; ``balanced``
    weights classes by inverse frequency.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x)
    regression = LogisticRegression(C=C, max_iter=5000, class_weight="balanced" if balanced else None,
                                    random_state=seed)
    return scaler, regression.fit(scaler.transform(x), y)


def dense_weights(scaler, regression) -> list[np.ndarray]:
    """The kernel ``(values, 8)`` and bias ``(8,)`` of a softmax layer that gives ``regression``'s
    probabilities on unstandardised values: the scaler is folded into the weights."""
    coef, intercept = regression.coef_, regression.intercept_
    if len(regression.classes_) == 2:  # scikit-learn's binary form: logits (0, w.x + b)
        coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.concatenate([[0.0], intercept])
    # Emotions absent from training get a logit far below the others.
    logits_weight = np.zeros((len(EMOTIONS), coef.shape[1]))
    logits_bias = np.full(len(EMOTIONS), -50.0)
    logits_weight[regression.classes_], logits_bias[regression.classes_] = coef, intercept
    # softmax(W (s - m) / sd + b) = softmax((W / sd) s + b - W m / sd)
    kernel = (logits_weight / scaler.scale_).T
    bias = logits_bias - kernel.T @ scaler.mean_
    return [kernel.astype(np.float32), bias.astype(np.float32)]


def fit_linear_head(model_name, config, feature_config, features, labels, normalizer, run_dir, verbose):
    """Fit the linear ``pooled`` head as a logistic regression and save it as a Keras model.

    The regression sees exactly what the head's softmax layer sees (the
    model's own pooled statistics of the normalised features); its
    standardisation is folded into the dense weights, so ``best.keras``
    gives the regression's probabilities with no scikit-learn at predict time.
    Each C of :data:`LINEAR_C_GRID` is one row of ``history.csv``.
    """
    import keras

    if model_name != "pooled" or config.model_options.get("pooling", "stats") != "stats" \
            or config.model_options.get("hidden_units", 0):
        raise ParameterError("optimizer='lbfgs' fits only the linear head: model 'pooled' with pooling='stats' "
                             "and hidden_units=0")
    start = time.perf_counter()
    keras.utils.set_random_seed(config.seed)
    model = build_model(model_name, (*feature_config.shape, 1), len(EMOTIONS), **config.model_options)
    pooling = keras.Model(model.input, model.get_layer("pooled").output)

    def pooled(name):
        return pooling.predict(normalizer(features[name])[..., None], batch_size=64, verbose=0)

    stats = {name: pooled(name) for name in SPLIT_NAMES if len(labels[name])}

    def fit(C, x, y):
        return fit_logistic_regression(x, y, C, balanced=config.class_weights, seed=config.seed)

    history = []
    grid = () if config.linear_c is not None or "validation" not in stats else LINEAR_C_GRID
    for C in grid:
        scaler, regression = fit(C, stats["train"], labels["train"])
        predicted = regression.predict(scaler.transform(stats["validation"]))
        history.append({"epoch": len(history), "C": C,
                        "accuracy": float((regression.predict(scaler.transform(stats["train"])) ==
                                           labels["train"]).mean()),
                        "val_accuracy": float((predicted == labels["validation"]).mean()),
                        "val_macro_f1": compute_metrics(labels["validation"], predicted)["f1_macro"]})
        if verbose:
            logger.info("C=%g: validation macro-F1 %.3f", C, history[-1]["val_macro_f1"])
    if history:
        best = max(history, key=lambda row: row["val_macro_f1"])
    elif config.linear_c is not None:
        best = {"epoch": 0, "C": config.linear_c, "val_macro_f1": None}
    else:
        raise ParameterError("optimizer='lbfgs' without validation clips needs linear_c (--linear-c): the C "
                             "to use, e.g. the one cross-validation chose")
    x, y = stats["train"], labels["train"]
    if config.refit and "validation" in stats:
        extra = "refit" if "refit" in features else "validation"  # "refit": validation at every window
        x_extra = stats[extra] if extra in stats else pooled(extra)
        x, y = np.concatenate([x, x_extra]), np.concatenate([y, labels[extra]])
    model.get_layer("predictions").set_weights(dense_weights(*fit(best["C"], x, y)))
    with atomic_path(run_dir / "best.keras") as temporary:
        model.save(temporary)
    write_csv(run_dir / "history.csv", pd.DataFrame(history or [best]))
    write_json(run_dir / "selection.json", {
        "best_f1": best["val_macro_f1"], "best_epoch": best["epoch"] + 1, "C": best["C"],
        "refit": bool(config.refit and "validation" in stats), "epochs_since_best": 0,
        "train_seconds": time.perf_counter() - start})
