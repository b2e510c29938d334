"""The presets: recipes as data (``quick``, ``full``, ``whisper``...), and a run's configuration made from one."""

from __future__ import annotations

from dataclasses import fields, replace

from ..exceptions import ParameterError
from ..models import BASELINE_NAMES, MODEL_NAMES, TRAINABLE_MODELS, check_trainable
from .config import TrainConfig

#: What the log-mel presets' studies run: the seven architectures and the classical baseline beside them.
LOG_MEL_STUDY = [*MODEL_NAMES, *BASELINE_NAMES]


#: Training recipes as data. ``features`` and ``train`` apply to every model;
#: ``models`` gives each architecture's builder options; ``study`` lists the
#: models ``ravdess-tf study`` runs by default.
PRESETS = {
    "quick": {
        "description": (
            "Small variants of every architecture on an 80-band x 94-frame log-mel input, "
            "6 epochs: minutes per model on 2 CPU cores (VGG16 and VGG19 with batch normalisation, VGG-BN, "
            "so that they learn in 6 epochs). For CI, teaching and smoke tests; its numbers are not the study's."),
        "features": {"n_mels": 80, "hop_length": 512},
        "train": {"epochs": 6, "patience": 6, "learning_rate": 2e-3},
        "study": LOG_MEL_STUDY,
        "models": {
            "alexnet": {"width": 0.25, "dense_units": 1024},
            "resnet50": {"stages": 1},
            "inception_v3": {"stages": 1},
            #: Plain VGG stayed near chance here for 6 epochs at the learning rates tried (2e-3, 5e-4);
            #: with batch normalisation VGG16 reached 0.33 validation macro-F1 (results/ablation.md).
            "vgg16": {"stages": 2, "batch_norm": True},
            "vgg19": {"stages": 2, "batch_norm": True},
            "lstm": {"units": 48, "depth": 1},
            "transformer": {"width": 64, "depth": 2, "heads": 4},
            "pooled": {},
            "svm": {},
        },
    },
    "full": {
        "description": (
            "The study's full-size networks on an 80-band x 121-frame log-mel input (25 ms hop), "
            "up to 40 epochs with early stopping (patience 10) on validation macro-F1 (learning rate 1e-3; "
            "1e-4 for VGG16 and VGG19, which have no normalisation layers and did not learn at 1e-3); the LSTM, "
            "the transformer, AlexNet, ResNet50, InceptionV3 and VGG16 also train on a noisy and a pitch-shifted copy of every "
            "training clip, InceptionV3 for all 40 epochs (no early stopping); the transformer warms its learning "
            "rate up over 5 epochs, the others over 1. "
            "The 7 models x 2 protocols take about 18 hours on a 2-core CPU (two thirds of it VGG16 and VGG19, estimated from "
            "their runs without the copies); minutes on a GPU."),
        "features": {"n_mels": 80, "hop_length": 400},
        "train": {"epochs": 40, "patience": 10, "learning_rate": 1e-3},
        "study": LOG_MEL_STUDY,
        #: VGG has no normalisation layers: at 1e-3, VGG16 never left chance on the paper split
        #: (loss stuck at ln 8 for 12 epochs, every clip one class), so it trains at a tenth of that.
        #: The transformer and the LSTM also train on a noisy and a pitch-shifted copy of every training
        #: clip: of the levers tried on them over the six actor folds, the best mean validation macro-F1
        #: (results/ablation.md). AlexNet too: they lifted its best validation macro-F1 from about 0.61
        #: to 0.74 on the paper split, 0.49 to 0.59 on the actor split (results/ablation.md, "The
        #: convolutional networks"). InceptionV3 with them swings for its first 15 epochs and early
        #: stopping cut it at 0.33 on the paper split; run all 40 epochs it reached 0.72 there (0.49 on
        #: the actor split), the best of the runs at this front-end. ResNet50 too: its best validation
        #: macro-F1 on the paper split rose from about 0.73 to 0.825 (results/ablation.md). VGG16 too: 0.779
        #: best validation macro-F1 on the paper split, 0.539 on the actor split. VGG19 with them stayed at
        #: chance (loss ln 8, one class) for its first 11 epochs on both splits, so it keeps the clips alone.
        #: The transformer also warms its learning rate up over five epochs, not one: over its six actor
        #: folds and two seeds that gained 1.6 points of mean validation macro-F1 (results/ablation.md);
        #: on the LSTM it lost 2.1, so the LSTM and the others keep one. The study's rerun with it: +1.3
        #: points of validation over the six folds, test unchanged (0.540 against 0.539).
        "train_overrides": {"vgg16": {"learning_rate": 1e-4, "augmented_copies": True},
                            "vgg19": {"learning_rate": 1e-4},
                            "lstm": {"augmented_copies": True},
                            "transformer": {"augmented_copies": True, "warmup_epochs": 5},
                            "alexnet": {"augmented_copies": True}, "resnet50": {"augmented_copies": True},
                            "inception_v3": {"augmented_copies": True, "patience": 40}},
        "models": {name: {} for name in TRAINABLE_MODELS},
    },
    "whisper": {
        "description": (
            "Frozen Whisper-base encoder, hidden states after layers 2, 3 and 4 (1536 values per "
            "20 ms frame, 3 s centred clips brought to -20 dBFS of active speech), under a light head: `pooled` is mean+std pooling over "
            "frames and a linear softmax, fitted exactly as a logistic regression (C chosen on the "
            "validation actors, then refit on training + validation actors). The other heads (lstm, "
            "transformer) train by gradient, without augmentation, up to 60 epochs, patience 15. Needs "
            "`pip install \"ravdess-tf[whisper]\"`; the encoding is cached once: about 3 min a window "
            "for all 1440 clips on 2 cores, and the linear head reads three windows of each clip, so "
            "about 8 min the first time."),
        #: Clips at -20 dBFS of active speech: the level of the best mean validation macro-F1 over the
        #: six folds among -32, -25, -20 and -15 (results/whisper.md).
        "features": {"kind": "whisper", "whisper_model": "base", "layer": [2, 3, 4], "level_dbfs": -20.0},
        "train": {"epochs": 60, "patience": 15, "learning_rate": 1e-3, "weight_decay": 1e-2,
                  "augment": False},
        "study": ["pooled"],
        #: Per-model changes to "train": the linear head is fitted exactly, not by gradient descent, on
        #: three 3 s windows of every clip (its start, centre and end): the lever that won on validation
        #: actors under both actor CV and EmoBox's folds (results/whisper.md). Tested on the centre.
        "train_overrides": {"pooled": {"optimizer": "lbfgs", "refit": True, "train_crops": [0.0, 0.5, 1.0]}},
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
    # One window per clip: the speaker statistics were measured so, and several windows were not tried with them.
    "train_overrides": {"pooled": {"optimizer": "lbfgs", "refit": True}},
}


def preset_config(preset: str, model_name: str, **overrides) -> TrainConfig:
    """The :class:`TrainConfig` of ``model_name`` under a preset, with field overrides."""
    if preset not in PRESETS:
        raise ParameterError(f"Unknown preset {preset!r}; presets: {', '.join(PRESETS)}")
    check_trainable(model_name)
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
    dict_fields = [f.name for f in fields(TrainConfig) if f.type == "dict"]
    changes = {}
    for key, value in (overrides or {}).items():
        name, _, entry = key.partition(".")
        if name not in names or (entry and name not in dict_fields):
            raise ParameterError(f"cannot vary {key!r}: give a TrainConfig field ({', '.join(names)}), or "
                                 + " / ".join(f"{field_name}.NAME" for field_name in dict_fields))
        if entry:
            changes[name] = {**changes.get(name, getattr(config, name)), entry: value}
        else:
            changes[name] = value
    return replace(config, **changes)
