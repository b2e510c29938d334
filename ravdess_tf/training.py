"""Training: presets, one resumable run per (model, split), and what it writes.

A run is one folder::

    config.json             model, options, feature and training configuration, split summary
    normalizer.json         per-band training statistics (predict needs them)
    history.csv             one row per epoch: loss, accuracy, val_loss, val_accuracy, val_macro_f1, lr
    selection.json          the best epoch so far and the early-stopping state (resume-safe)
    best.keras              the model of the best validation macro-F1
    backup/                 BackupAndRestore's state while the run is unfinished
    predictions_validation.csv, predictions_test.csv
    metrics.json            written last: a run with it is finished

Model selection uses the validation split only (macro-F1, as the test
metric); the test split is predicted once, with the selected model.
"""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import pandas as pd

from .atomic import atomic_path, write_csv, write_json
from .data import EMOTIONS
from .evaluation import compute_metrics
from .exceptions import ParameterError
from .features import FeatureConfig, FeatureTable, extract_features
from .models import ALL_MODELS, MODEL_NAMES, build_model, register_custom_layers
from .pipeline import Normalizer, fit_normalizer, normalize_per_speaker
from .splits import SPLIT_NAMES

#: "lbfgs" fits the linear ``pooled`` head exactly, as a multinomial logistic
#: regression (scikit-learn), with its L2 strength chosen on validation.
OPTIMIZERS = ("adamw", "adam", "sgd", "lbfgs")
#: Inverse L2 strengths the "lbfgs" solver tries (scikit-learn's C, on standardised pooled statistics).
LINEAR_C_GRID = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3)
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")


@dataclass(frozen=True)
class TrainConfig:
    """How one model is trained. Every field is saved in the run's ``config.json``."""

    #: Most epochs to run; early stopping usually ends sooner.
    epochs: int = 40
    batch_size: int = 32
    #: Peak learning rate, reached after one warm-up epoch, then cosine-decayed:
    #: at a constant rate validation macro-F1 swung 0.10-0.42 between epochs.
    learning_rate: float = 1e-3
    #: Decoupled weight decay of AdamW.
    weight_decay: float = 1e-4
    optimizer: str = "adamw"
    #: Epochs without a better validation macro-F1 before stopping.
    patience: int = 10
    #: Weight classes by inverse frequency (neutral has half the clips of the others).
    class_weights: bool = True
    #: SpecAugment masks, time shift and noise on training batches.
    augment: bool = True
    seed: int = 0
    #: "float32", or a mixed policy ("mixed_bfloat16" was 1.43x faster on a CPU with AMX).
    precision: str = "float32"
    tensorboard: bool = False
    #: Options of the model builder (width, depth, stages, ...).
    model_options: dict = field(default_factory=dict)
    #: FeatureConfig fields that differ from its defaults.
    features: dict = field(default_factory=dict)
    #: optimizer="lbfgs" only: once the L2 strength is chosen on validation, fit
    #: again on training + validation clips (more speakers; test never seen).
    refit: bool = False
    #: optimizer="lbfgs" only: use this C instead of choosing one on validation
    #: (for a final model on all actors, take the C that cross-validation chose).
    linear_c: float | None = None
    #: Standardise every speaker's clips with that speaker's own statistics
    #: (:func:`ravdess_tf.pipeline.normalize_per_speaker`), in training and at
    #: test time: unsupervised adaptation to new speakers, which then need
    #: several clips each (predict takes the files it is given as one speaker).
    speaker_normalization: bool = False
    #: A ``.weights.h5`` file (``model.save_weights``) to start from instead of
    #: random weights: a warm start, or the same start under two backends.
    initial_weights: str | None = None

    def __post_init__(self):
        for name in ("epochs", "batch_size", "patience"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ParameterError(f"TrainConfig.{name} must be a positive integer, got {value!r}")
        if not self.learning_rate > 0:
            raise ParameterError(f"TrainConfig.learning_rate must be positive, got {self.learning_rate!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ParameterError(f"TrainConfig.optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if self.linear_c is not None and not (isinstance(self.linear_c, (int, float)) and self.linear_c > 0):
            raise ParameterError(f"TrainConfig.linear_c must be a positive number or None, got {self.linear_c!r}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ParameterError(f"TrainConfig.seed must be a non-negative integer, got {self.seed!r}")
        if self.initial_weights is not None and not str(self.initial_weights).endswith(".weights.h5"):
            raise ParameterError("TrainConfig.initial_weights must be a .weights.h5 file written by "
                                 f"model.save_weights, got {self.initial_weights!r}")
        if self.precision not in PRECISIONS:
            raise ParameterError(f"TrainConfig.precision must be one of {PRECISIONS}, got {self.precision!r}")

    def feature_config(self) -> FeatureConfig:
        return FeatureConfig(**self.features)


# --------------------------------------------------------------------------
# Presets
# --------------------------------------------------------------------------

#: Training recipes as data. ``features`` and ``train`` apply to every model;
#: ``models`` gives each architecture's builder options; ``study`` lists the
#: models ``ravdess-tf study`` runs by default.
PRESETS = {
    "quick": {
        "description": (
            "Small variants of every architecture on an 80-band x 94-frame log-mel input, "
            "6 epochs: minutes per model on 2 CPU cores. For CI, teaching and smoke tests; "
            "its numbers are not the study's."),
        "features": {"n_mels": 80, "hop_length": 512},
        "train": {"epochs": 6, "patience": 6, "learning_rate": 2e-3},
        "study": list(MODEL_NAMES),
        "models": {
            "alexnet": {"width": 0.25, "dense_units": 1024},
            "resnet50": {"stages": 1},
            "inception_v3": {"stages": 1},
            "vgg16": {"stages": 2},
            "vgg19": {"stages": 2},
            "lstm": {"units": 48, "depth": 1},
            "transformer": {"width": 64, "depth": 2, "heads": 4},
            "pooled": {},
        },
    },
    "full": {
        "description": (
            "The study's full-size networks on an 80-band x 121-frame log-mel input (25 ms hop), "
            "up to 40 epochs with early stopping (patience 10) on validation macro-F1 (learning rate 1e-3; "
            "1e-4 for VGG16 and VGG19, which have no normalisation layers and did not learn at 1e-3). Sized so "
            "that the 7 models x 2 protocols take about 6 hours on a 2-core CPU; minutes on a GPU."),
        "features": {"n_mels": 80, "hop_length": 400},
        "train": {"epochs": 40, "patience": 10, "learning_rate": 1e-3},
        "study": list(MODEL_NAMES),
        #: VGG has no normalisation layers: at 1e-3, VGG16 never left chance on the paper split
        #: (loss stuck at ln 8 for 12 epochs, every clip one class), so it trains at a tenth of that.
        "train_overrides": {"vgg16": {"learning_rate": 1e-4}, "vgg19": {"learning_rate": 1e-4}},
        "models": {name: {} for name in ALL_MODELS},
    },
    "whisper": {
        "description": (
            "Frozen Whisper-base encoder, hidden states after layers 2, 3 and 4 (1536 values per "
            "20 ms frame, 3 s centred clips brought to -20 dBFS of active speech), under a light head: `pooled` is mean+std pooling over "
            "frames and a linear softmax, fitted exactly as a logistic regression (C chosen on the "
            "validation actors, then refit on training + validation actors). The other heads (lstm, "
            "transformer) train by gradient, without augmentation, up to 60 epochs, patience 15. Needs "
            "`pip install \"ravdess-tf[whisper]\"`; the encoding is cached once (~3 min on 2 cores)."),
        #: Clips at -20 dBFS of active speech: the level of the best mean validation macro-F1 over the
        #: six folds among -32, -25, -20 and -15 (results/whisper.md).
        "features": {"kind": "whisper", "whisper_model": "base", "layer": [2, 3, 4], "level_dbfs": -20.0},
        "train": {"epochs": 60, "patience": 15, "learning_rate": 1e-3, "weight_decay": 1e-2,
                  "augment": False},
        "study": ["pooled"],
        #: Per-model changes to "train": the linear head is fitted exactly, not by gradient descent.
        "train_overrides": {"pooled": {"optimizer": "lbfgs", "refit": True}},
        #: Its runs join the tables of this preset, told apart by their features column.
        "report_in": "full",
        "models": {
            "pooled": {},
            "lstm": {"units": 64, "depth": 1, "dropout": 0.5},
            "transformer": {"width": 64, "depth": 1, "heads": 4},
        },
    },
}
# The same Whisper recipe with each speaker's clips standardised by that speaker's own statistics
# (unlabelled; at test time too): adaptation to new speakers, for when several clips of each are at hand.
PRESETS["whisper-speaker-norm"] = {
    **PRESETS["whisper"],
    "description": (
        "The `whisper` recipe, with every speaker's frames standardised by that speaker's own per-band "
        "mean and standard deviation over all their clips (no labels; test speakers' statistics from their "
        "test clips). Needs several clips of each speaker at prediction time; use it with the actor "
        "protocols (the random split leaves few clips of a speaker in a part)."),
    "train": {**PRESETS["whisper"]["train"], "speaker_normalization": True},
}


def preset_config(preset: str, model_name: str, **overrides) -> TrainConfig:
    """The :class:`TrainConfig` of ``model_name`` under a preset, with field overrides."""
    if preset not in PRESETS:
        raise ParameterError(f"Unknown preset {preset!r}; presets: {', '.join(PRESETS)}")
    if model_name not in ALL_MODELS:
        raise ParameterError(f"Unknown model {model_name!r}; valid names: {', '.join(ALL_MODELS)}")
    recipe = PRESETS[preset]
    if model_name not in recipe["models"]:
        raise ParameterError(f"Preset {preset!r} has no recipe for {model_name!r}; its models: "
                             f"{', '.join(recipe['models'])}")
    train_fields = {**recipe["train"], **recipe.get("train_overrides", {}).get(model_name, {})}
    config = TrainConfig(**train_fields, features=dict(recipe["features"]),
                         model_options=dict(recipe["models"][model_name]))
    unknown = set(overrides) - {f.name for f in fields(TrainConfig)}
    if unknown:
        raise ParameterError(f"TrainConfig has no field {', '.join(sorted(unknown))}")
    return replace(config, **overrides)


def apply_overrides(config: TrainConfig, overrides: dict | None) -> TrainConfig:
    """``config`` with fields replaced; ``"features.n_mels"``-style keys set one entry of a dict field.

    Examples
    --------
    >>> config = apply_overrides(TrainConfig(), {"learning_rate": 3e-4, "features.n_mels": 64})
    >>> config.learning_rate, config.features["n_mels"]
    (0.0003, 64)
    """
    names = {f.name: f for f in fields(TrainConfig)}
    changes = {}
    for key, value in (overrides or {}).items():
        name, _, entry = key.partition(".")
        if name not in names or (entry and name not in ("features", "model_options")):
            raise ParameterError(f"cannot vary {key!r}: give a TrainConfig field ({', '.join(names)}), or "
                                 "features.NAME / model_options.NAME")
        if entry:
            changes[name] = {**changes.get(name, getattr(config, name)), entry: value}
        else:
            changes[name] = value
    return replace(config, **changes)


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------

def describe_device() -> str:
    """A short description of what Keras computes on."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        device = jax.devices()[0]
        return f"{device.platform}:{getattr(device, 'device_kind', device)}"
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            return f"gpu:{tf.config.experimental.get_device_details(gpus[0]).get('device_name', 'GPU')}"
    return f"cpu:{os.cpu_count()} cores {platform.machine()}"


def feature_tag(feature_config: FeatureConfig, config: TrainConfig) -> str:
    """The ``features`` column of the results: the front-end's tag, ``+speaker-norm`` if speakers are normalised."""
    return feature_config.tag + ("+speaker-norm" if config.speaker_normalization else "")


def class_weights_for(labels: np.ndarray, num_classes: int = len(EMOTIONS)) -> dict[int, float]:
    """Inverse-frequency weights, ``n / (k * count)``, for the classes present."""
    counts = np.bincount(labels, minlength=num_classes)
    present = counts > 0
    weights = np.zeros(num_classes)
    weights[present] = len(labels) / (present.sum() * counts[present])
    return {int(c): float(weights[c]) for c in np.flatnonzero(present)}


def predictions_table(rows: pd.DataFrame, probabilities: np.ndarray) -> pd.DataFrame:
    """Metadata of each clip with its predicted class and class probabilities."""
    columns = [c for c in ("clip_id", "actor", "gender", "emotion", "emotion_id", "intensity", "statement",
                           "repetition") if c in rows]
    table = rows[columns].reset_index(drop=True).copy()
    table["predicted_id"] = probabilities.argmax(axis=1)
    table["predicted"] = [EMOTIONS[i] for i in table["predicted_id"]]
    for index, emotion in enumerate(EMOTIONS):
        table[f"p_{emotion}"] = probabilities[:, index].round(5)
    return table


def _features_for_split(split, feature_config, cache_dir, progress, table=None):
    """Features of every clip of the split, as one array per part.

    Features are extracted for the union of the parts in metadata order, so
    every protocol over the full dataset shares one cache entry; with a
    :class:`~ravdess_tf.features.FeatureTable`, they are read from it by clip id.
    """
    union = pd.concat([split[name] for name in SPLIT_NAMES])
    if not union.index.is_unique:
        raise ParameterError("the split's parts overlap: a clip is in two of train/validation/test")
    if table is not None:
        table.check(feature_config)
        return {name: table.rows(split[name]["clip_id"]) for name in SPLIT_NAMES}
    union = union.sort_index()
    features = extract_features(union, feature_config, cache_dir=cache_dir, progress=progress)
    position = pd.Series(np.arange(len(union)), index=union.index)
    return {name: features[position[split[name].index].to_numpy()] for name in SPLIT_NAMES}


# --------------------------------------------------------------------------
# Model selection callback
# --------------------------------------------------------------------------

def _selection_callback():
    import keras

    class SelectOnValidation(keras.callbacks.Callback):
        """Validation macro-F1 each epoch; keeps the best model; stops after ``patience``.

        It does the work of EarlyStopping(restore_best_weights) and
        ModelCheckpoint(save_best_only) in one place and keeps its state in
        ``selection.json``, so a run resumed by BackupAndRestore remembers the
        best epoch so far (the stock callbacks start afresh and could overwrite
        a better model from before the interruption). Without validation clips
        (``x_val=None``: a final model on all actors) it keeps the latest model.
        """

        def __init__(self, x_val, y_val, run_dir: Path, patience: int):
            super().__init__()
            self.x_val, self.y_val = x_val, y_val
            self.state_path = Path(run_dir) / "selection.json"
            self.model_path = Path(run_dir) / "best.keras"
            self.patience = patience
            self.state = {"best_f1": -1.0, "best_epoch": None, "epochs_since_best": 0, "train_seconds": 0.0}

        def on_train_begin(self, logs=None):
            if self.state_path.is_file():
                self.state.update(json.loads(self.state_path.read_text()))
            if self.state["best_f1"] is None:
                self.state["best_f1"] = -1.0

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch_start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            logs = logs if logs is not None else {}
            logs["learning_rate"] = float(np.asarray(self.model.optimizer.learning_rate))
            self.state["train_seconds"] += time.perf_counter() - self.epoch_start
            if self.x_val is None:  # no validation clips: the latest model is the one kept
                improved = True
            else:
                probabilities = self.model.predict(self.x_val, batch_size=64, verbose=0)
                predicted = probabilities.argmax(axis=1)
                true_probability = probabilities[np.arange(len(self.y_val)), self.y_val]
                logs["val_loss"] = float(-np.log(np.clip(true_probability, 1e-7, 1.0)).mean())
                logs["val_accuracy"] = float((predicted == self.y_val).mean())
                logs["val_macro_f1"] = compute_metrics(self.y_val, predicted)["f1_macro"]
                improved = logs["val_macro_f1"] > self.state["best_f1"]
            if improved:
                self.state.update(best_f1=logs.get("val_macro_f1"), best_epoch=epoch + 1, epochs_since_best=0)
                with atomic_path(self.model_path) as temporary:
                    self.model.save(temporary)
            else:
                self.state["epochs_since_best"] += 1
                if self.state["epochs_since_best"] >= self.patience:
                    self.model.stop_training = True
            write_json(self.state_path, self.state)

    return SelectOnValidation


# --------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------

def _optimizer(config: TrainConfig, steps_per_epoch: int):
    import keras

    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=config.learning_rate / 10, decay_steps=config.epochs * steps_per_epoch,
        warmup_target=config.learning_rate, warmup_steps=steps_per_epoch, alpha=0.01)
    if config.optimizer == "adamw":
        return keras.optimizers.AdamW(schedule, weight_decay=config.weight_decay)
    if config.optimizer == "adam":
        return keras.optimizers.Adam(schedule)
    return keras.optimizers.SGD(schedule, momentum=0.9, nesterov=True)


def _training_batches(x, y, config: TrainConfig, normalizer: Normalizer):
    """The training batches, the same under every backend (a PyDataset), and the callback that keeps
    their epoch in step with the model's (a run resumed at epoch 12 gets epoch 12's batches)."""
    import keras

    from .pipeline import ArrayBatches

    batches = ArrayBatches(x, y, batch_size=config.batch_size, shuffle=True, augment=config.augment,
                           seed=config.seed, normalizer=normalizer)
    follow_epoch = keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: batches.set_epoch(epoch))
    return batches, follow_epoch


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


def _fit_linear(model_name, config, feature_config, features, labels, normalizer, run_dir, verbose):
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
            print(f"C={C:g}: validation macro-F1 {history[-1]['val_macro_f1']:.3f}", flush=True)
    if history:
        best = max(history, key=lambda row: row["val_macro_f1"])
    elif config.linear_c is not None:
        best = {"epoch": 0, "C": config.linear_c, "val_macro_f1": None}
    else:
        raise ParameterError("optimizer='lbfgs' without validation clips needs linear_c (--linear-c): the C "
                             "to use, e.g. the one cross-validation chose")
    x, y = stats["train"], labels["train"]
    if config.refit and "validation" in stats:
        x, y = np.concatenate([x, stats["validation"]]), np.concatenate([y, labels["validation"]])
    scaler, regression = fit(best["C"], x, y)
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
    model.get_layer("predictions").set_weights([kernel.astype(np.float32), bias.astype(np.float32)])
    with atomic_path(run_dir / "best.keras") as temporary:
        model.save(temporary)
    write_csv(run_dir / "history.csv", pd.DataFrame(history or [best]))
    write_json(run_dir / "selection.json", {
        "best_f1": best["val_macro_f1"], "best_epoch": best["epoch"] + 1, "C": best["C"],
        "refit": bool(config.refit and "validation" in stats), "epochs_since_best": 0,
        "train_seconds": time.perf_counter() - start})


def _fit(model_name, config, feature_config, features, labels, normalizer, run_dir, callbacks, verbose):
    """Build, compile and fit (or resume fitting) the model of one run."""
    import keras

    keras.utils.set_random_seed(config.seed)
    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(config.precision)
    try:
        model = build_model(model_name, (*feature_config.shape, 1), len(EMOTIONS), **config.model_options)
        train_batches, follow_epoch = _training_batches(features["train"], labels["train"], config, normalizer)
        if config.initial_weights is not None:
            model.load_weights(config.initial_weights)
        steps_per_epoch = int(np.ceil(len(labels["train"]) / config.batch_size))
        model.compile(optimizer=_optimizer(config, steps_per_epoch), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        x_val = normalizer(features["validation"])[..., None] if len(labels["validation"]) else None
        all_callbacks = [
            follow_epoch,
            _selection_callback()(x_val, labels["validation"], run_dir, config.patience),
            keras.callbacks.CSVLogger(str(run_dir / "history.csv"), append=True),
            keras.callbacks.BackupAndRestore(str(run_dir / "backup")),
        ]
        if config.tensorboard:
            all_callbacks.append(keras.callbacks.TensorBoard(str(run_dir / "tensorboard")))
        all_callbacks += callbacks or []
        # shuffle=False: the batches shuffle themselves, by seed and epoch
        model.fit(train_batches, epochs=config.epochs, callbacks=all_callbacks, verbose=verbose, shuffle=False,
                  class_weight=class_weights_for(labels["train"]) if config.class_weights else None)
    finally:
        keras.config.set_dtype_policy(previous_policy)


def train(
    model_name: str,
    split: dict,
    config: TrainConfig | None = None,
    *,
    run_dir: str | os.PathLike,
    cache_dir: str | os.PathLike | None = None,
    overwrite: bool = False,
    description: dict | None = None,
    callbacks: list | None = None,
    verbose: int = 1,
    features: FeatureTable | None = None,
    executor: str = "sequential",
) -> dict:
    """Train one model on one split, select on validation, evaluate on test.

    Parameters
    ----------
    model_name : str
        One of :data:`ravdess_tf.MODEL_NAMES`, or a head of :data:`ravdess_tf.models.HEAD_NAMES`.
    split : dict
        ``{"train": df, "validation": df, "test": df}`` from :func:`ravdess_tf.make_split`.
        For a final model on all the data, validation and test may be empty:
        then the model of the last epoch is kept and nothing is tested.
    config : TrainConfig or None
        ``None`` means ``TrainConfig()`` (the full-size model, default features).
    run_dir : path
        The run's folder. An unfinished run there is resumed; a finished one
        (with ``metrics.json``) raises ``FileExistsError`` unless ``overwrite``.
    cache_dir : path or None
        Feature cache folder (see :func:`ravdess_tf.extract_features`).
    overwrite : bool
        Start afresh even if ``run_dir`` holds a finished run.
    description : dict or None
        Extra facts stored in ``config.json`` (protocol, fold, preset).
    callbacks : list or None
        More Keras callbacks, run after the run's own.
    verbose : int
        Keras' verbosity: 0 silent, 1 progress bar, 2 one line per epoch.
    features : FeatureTable or None
        The features of the split's clips, made elsewhere
        (:func:`ravdess_tf.features.feature_table`): no audio is read. ``None``
        extracts them (or reads the cache).
    executor : str
        What ran the run (``"sequential"``, ``"ray"``), recorded in ``metrics.json``.

    Returns
    -------
    dict
        The content of ``metrics.json``.
    """
    import keras

    config = config or TrainConfig()
    if model_name not in ALL_MODELS:
        raise ParameterError(f"Unknown model {model_name!r}; valid names: {', '.join(ALL_MODELS)}")
    missing = [name for name in SPLIT_NAMES if name not in split]
    if missing or len(split.get("train", ())) == 0:
        raise ParameterError(
            f"split needs the parts train (not empty), validation and test; missing: {missing or ['train']}")
    if config.initial_weights is not None:
        if config.optimizer == "lbfgs":
            raise ParameterError("initial_weights applies to gradient training; optimizer='lbfgs' fits the linear "
                                 "head exactly and has no starting point")
        if not Path(config.initial_weights).is_file():
            raise FileNotFoundError(f"TrainConfig.initial_weights: no such file {config.initial_weights!r}")
    run_dir = Path(run_dir)
    if (run_dir / "metrics.json").exists():
        if not overwrite:
            raise FileExistsError(
                f"{run_dir} holds a finished run (metrics.json). Choose another run folder, or pass "
                "overwrite=True (--overwrite) to replace it.")
        for name in ("metrics.json", "selection.json", "history.csv", "best.keras"):
            (run_dir / name).unlink(missing_ok=True)
    run_dir.mkdir(parents=True, exist_ok=True)

    feature_config = config.feature_config()
    features = _features_for_split(split, feature_config, cache_dir, progress=verbose > 0, table=features)
    if config.speaker_normalization:  # each part on its own: test speakers' statistics come from test clips
        features = {name: normalize_per_speaker(features[name], split[name]["actor"]) if len(split[name])
                    else features[name] for name in SPLIT_NAMES}
    labels = {name: split[name]["emotion_id"].to_numpy(np.int32) for name in SPLIT_NAMES}
    normalizer = fit_normalizer(features["train"])

    write_json(run_dir / "config.json", {
        "model": model_name, "train": asdict(config), "feature_config": feature_config.to_dict(),
        "input_shape": [*feature_config.shape, 1], "classes": list(EMOTIONS),
        "split": {name: {"clips": len(split[name]), "actors": sorted(map(int, split[name]["actor"].unique()))}
                  for name in SPLIT_NAMES},
        **(description or {}),
    })
    write_json(run_dir / "normalizer.json", normalizer.to_dict())

    selection_path = run_dir / "selection.json"
    fitted = selection_path.is_file() and json.loads(selection_path.read_text()).get("finished", False)
    if not fitted:  # else: killed after training, before metrics.json; only the evaluation is left
        if config.optimizer == "lbfgs":
            _fit_linear(model_name, config, feature_config, features, labels, normalizer, run_dir, verbose)
        else:
            _fit(model_name, config, feature_config, features, labels, normalizer, run_dir, callbacks, verbose)
        write_json(selection_path, {**json.loads(selection_path.read_text()), "finished": True})

    register_custom_layers()
    best = keras.models.load_model(run_dir / "best.keras")
    selection = json.loads((run_dir / "selection.json").read_text())
    history = pd.read_csv(run_dir / "history.csv")
    results = {"model": model_name, **(description or {}), "backend": keras.backend.backend(),
               "features": feature_tag(feature_config, config), "device": describe_device(), "executor": executor,
               "seed": config.seed, "epochs": int(len(history)),
               "best_epoch": selection["best_epoch"], "train_seconds": round(selection["train_seconds"], 1),
               "parameters": int(best.count_params())}
    for name in ("validation", "test"):
        if len(labels[name]) == 0:
            continue
        probabilities = best.predict(normalizer(features[name])[..., None], batch_size=64, verbose=0)
        table = predictions_table(split[name], probabilities)
        write_csv(run_dir / f"predictions_{name}.csv", table)
        results[name] = compute_metrics(table["emotion_id"], table["predicted_id"])
    write_json(run_dir / "metrics.json", results)
    return results
