"""Training: one resumable run per (model, split), and what it writes.

:func:`train` prepares the run folder and the features, fits (:mod:`.fit` by
gradient, :mod:`.linear` for the exact linear head), and evaluates the
selected model. What a run is told: :class:`~.config.TrainConfig`, usually
from a preset (:mod:`.presets`); how its epoch is chosen: :mod:`.selection`;
how it resumes: :mod:`.resume`.

A run is one folder::

    config.json             model, options, feature and training configuration, split summary
    normalizer.json         per-band training statistics (predict needs them)
    history.csv             one row per epoch: loss, accuracy, val_loss, val_accuracy, val_macro_f1, lr
    selection.json          the best epoch so far and the early-stopping state (resume-safe)
    best.keras              the model of the best validation macro-F1
    backup/                 the last backed-up epoch while the run is unfinished
    weight_average.npz      the weights' average so far, while an unfinished run averages them (swa_start_epoch)
    predictions_validation.csv, predictions_test.csv
    metrics.json            written last: a run with it is finished

Model selection uses the validation split only (macro-F1, as the test
metric); the test split is predicted once, with the selected model.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..atomic import write_csv, write_json
from ..cache import FeatureTable
from ..data import EMOTIONS
from ..evaluation import compute_metrics, predictions_table
from ..exceptions import ParameterError
from ..features import FeatureConfig, extract_features
from ..models import BASELINE_NAMES, check_trainable, register_custom_layers
from ..pipeline import fit_normalizer, normalize_per_speaker
from ..splits import SPLIT_NAMES
from .config import OPTIMIZERS, PRECISIONS, TrainConfig  # noqa: F401
from .linear import LINEAR_C_GRID, fit_logistic_regression  # noqa: F401
from .presets import PRESETS, apply_overrides, preset_config  # noqa: F401


#: The widest vector units a CPU may offer, widest first, by their ``/proc/cpuinfo`` flags. Two CPUs of
#: one name and core count can differ in them, and in speed: the full log-mel transformer took about
#: 0.17 s a step on the 2-core CPU of 2026-12-02 and 0.35-0.46 s on a 2-core AMD EPYC with AVX2 only,
#: which ``cpu:2 cores x86_64`` alone could not tell apart.
VECTOR_UNITS = (("amx_bf16", "AMX"), ("avx512_bf16", "AVX-512 BF16"), ("avx512f", "AVX-512"), ("avx2", "AVX2"))


def widest_vector_unit(flags) -> str | None:
    """The name of the widest of :data:`VECTOR_UNITS` among a CPU's ``flags``, or None."""
    flags = set(flags)
    return next((name for flag, name in VECTOR_UNITS if flag in flags), None)


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            return set(next(line for line in cpuinfo if line.startswith("flags")).split(":", 1)[1].split())
    except (OSError, StopIteration):  # not Linux: the results name no vector unit
        return set()


def describe_cpu() -> str:
    """This machine's processor, as the results name it: ``cpu:2 cores x86_64 AVX2``
    (the vector unit where Linux names it)."""
    description = f"cpu:{os.cpu_count()} cores {platform.machine()}"
    unit = widest_vector_unit(_cpu_flags())
    return f"{description} {unit}" if unit else description


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
    return describe_cpu()


def feature_tag(feature_config: FeatureConfig, config: TrainConfig) -> str:
    """The ``features`` column of the results: the front-end's tag, then what training adds to it:
    ``+3windows`` for three windows of every training clip (``train_crops``), ``+copies`` for augmented
    copies, ``+speaker-norm`` if speakers are normalised."""
    tag = feature_config.tag
    if config.train_crops is not None:
        tag += f"+{len(config.train_crops)}windows"
    if config.augmented_copies:
        tag += "+copies"
    return tag + ("+speaker-norm" if config.speaker_normalization else "")


def _union(split) -> pd.DataFrame:
    """Every clip of the split's parts, in metadata order, so that every protocol over the same clips shares
    one cache entry."""
    union = pd.concat([split[name] for name in SPLIT_NAMES])
    if not union.index.is_unique:
        raise ParameterError("the split's parts overlap: a clip is in two of train/validation/test")
    return union.sort_index()


def _by_part(split, union, rows_of_union) -> dict[str, np.ndarray]:
    """``rows_of_union`` (one row per clip of ``union``, in its order) cut into the split's parts."""
    position = pd.Series(np.arange(len(union)), index=union.index)
    return {name: rows_of_union[position[split[name].index].to_numpy()] for name in SPLIT_NAMES}


def _features_for_split(split, feature_config, cache_dir, progress, table=None):
    """Features of every clip of the split, as one array per part.

    Features are extracted for the union of the parts in metadata order, so
    every protocol over the full dataset shares one cache entry; with a
    :class:`~ravdess_tf.features.FeatureTable`, they are read from it by clip id.
    """
    union = _union(split)
    if table is not None:
        table.check(feature_config)
        return {name: table.rows(split[name]["clip_id"]) for name in SPLIT_NAMES}
    return _by_part(split, union, extract_features(union, feature_config, cache_dir=cache_dir, progress=progress))


def _with_crops(split, features, labels, feature_config, positions, cache_dir, progress):
    """The training part at every window position (one row per clip and window, window by window), and the
    validation part likewise as ``"refit"``, for a refit on training + validation clips."""
    crops = [features if position == feature_config.crop_position else  # that window is read already
             _features_for_split(split, replace(feature_config, crop_position=position), cache_dir, progress)
             for position in positions]
    features = {**features, "train": np.concatenate([crop["train"] for crop in crops]),
                "refit": np.concatenate([crop["validation"] for crop in crops])}
    labels = {**labels, "train": np.tile(labels["train"], len(positions)),
              "refit": np.tile(labels["validation"], len(positions))}
    return features, labels


def _with_augmented_copies(split, features, labels, feature_config, seed, cache_dir, progress,
                           speaker_normalization=False):
    """The training part followed by each augmented copy of its clips (:mod:`ravdess_tf.augmentation`);
    with ``speaker_normalization``, each copy standardised by its speaker's statistics *in that copy*, as a
    speaker heard through the same noise or pitch would be at test time."""
    from ..augmentation import augmented_copies

    union = _union(split)
    copies = augmented_copies(union, feature_config, seed=seed, cache_dir=cache_dir, progress=progress)
    train_copies = [_by_part(split, union, block)["train"] for block in copies]
    if speaker_normalization:
        train_copies = [normalize_per_speaker(block, split["train"]["actor"]) for block in train_copies]
    features = {**features, "train": np.concatenate([features["train"], *train_copies])}
    labels = {**labels, "train": np.tile(labels["train"], 1 + len(copies))}
    return features, labels


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
        One of :data:`ravdess_tf.MODEL_NAMES`, a head of :data:`ravdess_tf.models.HEAD_NAMES`, or the
        classical baseline ``"svm"`` (:mod:`ravdess_tf.training.baseline`).
    split : dict
        ``{"train": df, "validation": df, "test": df}`` from :func:`ravdess_tf.make_split`.
        For a final model on all the data, validation and test may be empty:
        then the model of the last epoch is kept and nothing is tested.
    config : TrainConfig or None
        ``None`` means ``TrainConfig()`` (the full-size model, default features).
    run_dir : path
        The run's folder. An unfinished run there is resumed, if it has the same
        model and configuration (else ``ParameterError``, unless ``overwrite``);
        a finished one (with ``metrics.json``) raises ``FileExistsError`` unless
        ``overwrite``.
    cache_dir : path or None
        Feature cache folder (see :func:`ravdess_tf.extract_features`).
    overwrite : bool
        Start afresh even if ``run_dir`` holds a finished run, or an unfinished
        run of another model or configuration.
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
    config = config or TrainConfig()
    run_dir = _prepare_run_folder(model_name, split, config, run_dir, overwrite)
    feature_config = config.feature_config()
    if config.reads_audio and features is not None:
        raise ParameterError("TrainConfig.train_crops and augmented_copies need the audio: train without features= "
                             "(a FeatureTable holds one window of each clip as recorded)")
    features = _features_for_split(split, feature_config, cache_dir, progress=verbose > 0, table=features)
    if config.speaker_normalization:  # each part on its own: test speakers' statistics come from test clips
        features = {name: normalize_per_speaker(features[name], split[name]["actor"]) if len(split[name])
                    else features[name] for name in SPLIT_NAMES}
    labels = {name: split[name]["emotion_id"].to_numpy(np.int32) for name in SPLIT_NAMES}
    if config.train_crops is not None:
        features, labels = _with_crops(split, features, labels, feature_config, config.train_crops, cache_dir,
                                       progress=verbose > 0)
    if config.augmented_copies:
        features, labels = _with_augmented_copies(split, features, labels, feature_config, config.seed, cache_dir,
                                                  progress=verbose > 0,
                                                  speaker_normalization=config.speaker_normalization)
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
        if model_name in BASELINE_NAMES:
            from .baseline import fit_svm_baseline

            fit_svm_baseline(config, features, labels, run_dir, verbose)
        elif config.optimizer == "lbfgs":
            from .linear import fit_linear_head

            fit_linear_head(model_name, config, feature_config, features, labels, normalizer, run_dir, verbose)
        else:
            from .fit import fit_network  # imports Keras

            fit_network(model_name, config, feature_config, features, labels, normalizer, run_dir, callbacks,
                        verbose)
        write_json(selection_path, {**json.loads(selection_path.read_text()), "finished": True})
    results = {"model": model_name, **(description or {}), "features": feature_tag(feature_config, config),
               "executor": executor, "seed": config.seed}
    return _evaluate(run_dir, model_name, split, features, normalizer, results)


def _prepare_run_folder(model_name: str, split: dict, config: TrainConfig, run_dir, overwrite: bool) -> Path:
    """Check the arguments and make the run folder (emptied, with ``overwrite``, of a finished run's files or of
    an unfinished run of another configuration)."""
    check_trainable(model_name)
    missing = [name for name in SPLIT_NAMES if name not in split]
    if missing or len(split.get("train", ())) == 0:
        raise ParameterError(
            f"split needs the parts train (not empty), validation and test; missing: {missing or ['train']}")
    if model_name in BASELINE_NAMES and len(split["validation"]) == 0:
        raise ParameterError(f"the {model_name!r} baseline chooses its C on validation clips; this split has none "
                             "(a final model on all actors is for the networks and heads)")
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
        _clear_run(run_dir)
    elif (run_dir / "selection.json").is_file() and (run_dir / "config.json").is_file():
        _check_resumed_run(run_dir, model_name, config, overwrite)
    run_dir.mkdir(parents=True, exist_ok=True)
    return run_dir


def _check_resumed_run(run_dir: Path, model_name: str, config: TrainConfig, overwrite: bool) -> None:
    """An unfinished run goes on only as what it started as: resumed under another model or configuration
    (a preset changed in between, say), its epochs would mix two recipes under one record. With
    ``overwrite`` such a run is cleared instead, to start afresh."""
    saved = json.loads((run_dir / "config.json").read_text())
    asked = json.loads(json.dumps(asdict(config)))  # tuples as the saved lists
    defaults = json.loads(json.dumps(asdict(TrainConfig())))
    changed = [name for name in asked if saved["train"].get(name, defaults[name]) != asked[name]]
    if saved.get("model") != model_name:
        changed.insert(0, "model")
    if changed and overwrite:
        _clear_run(run_dir)
    elif changed:
        was = {"model": saved.get("model"), **saved["train"]}
        now = {"model": model_name, **asked}
        raise ParameterError(
            f"{run_dir} holds an unfinished run of another configuration: "
            + ", ".join(f"{name} was {was.get(name, defaults.get(name))!r}, now {now[name]!r}" for name in changed)
            + ". Resume it with its own configuration (its config.json), choose another run folder, or pass "
            "overwrite=True (--overwrite) to start afresh in this one.")


def _clear_run(run_dir: Path) -> None:
    """Remove what a run's training wrote and resumes from, finished or not, so that it starts afresh
    (config.json and normalizer.json are written again at every start)."""
    for name in ("metrics.json", "selection.json", "history.csv", "best.keras", "weight_average.npz"):
        (run_dir / name).unlink(missing_ok=True)
    shutil.rmtree(run_dir / "backup", ignore_errors=True)


def selected_model(run_dir: Path, model_name: str, normalizer):
    """The model a run kept, as ``(probabilities of features, parameters, backend)``: a function of raw
    features ``(clips, n_features, frames)`` (``normalizer`` is applied here), its size, what ran it."""
    if model_name in BASELINE_NAMES:
        from .baseline import load_svm_baseline

        decisions, parameters = load_svm_baseline(run_dir)
        return decisions, parameters, "scikit-learn"
    import keras

    register_custom_layers()
    best = keras.models.load_model(run_dir / "best.keras")

    def probabilities(features):
        return best.predict(normalizer(features)[..., None], batch_size=64, verbose=0)

    return probabilities, int(best.count_params()), keras.backend.backend()


def _evaluate(run_dir: Path, model_name: str, split: dict, features: dict, normalizer, results: dict) -> dict:
    """Predict validation and test with the selected model; write their predictions and ``metrics.json``."""
    probabilities_of, parameters, backend = selected_model(run_dir, model_name, normalizer)
    selection = json.loads((run_dir / "selection.json").read_text())
    history = pd.read_csv(run_dir / "history.csv")
    results = {**results, "backend": backend,
               "device": describe_cpu() if model_name in BASELINE_NAMES else describe_device(),
               "epochs": int(len(history)), "best_epoch": selection["best_epoch"],
               "train_seconds": round(selection["train_seconds"], 1), "parameters": parameters}
    for name in ("validation", "test"):
        if len(split[name]) == 0:
            continue
        probabilities = probabilities_of(features[name])
        table = predictions_table(split[name], probabilities)
        write_csv(run_dir / f"predictions_{name}.csv", table)
        results[name] = compute_metrics(table["emotion_id"], table["predicted_id"])
    write_json(run_dir / "metrics.json", results)
    return results
