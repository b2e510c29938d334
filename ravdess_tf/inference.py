"""Predict the emotion of audio files with a trained run or a bundled model.

What a model was trained on decides how a file is read: every model saw
centred clips of ``FeatureConfig.duration`` seconds (3 s), level-normalised.
A file up to twice that long is read the same way, as one centred clip; a
longer one is cut into overlapping windows of that length
(:data:`WINDOW_HOP`), each is predicted, and the file's answer is the mean
of the windows' probabilities (:meth:`EmotionPredictor.timeline` gives the
windows). A file or window without speech (silent or near-silent) gets no
emotion rather than a guess, and a file shorter than :data:`MIN_SECONDS`
gets a warning naming it.
"""

from __future__ import annotations

import functools
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .data import EMOTIONS
from .exceptions import ParameterError
from .audio import load_audio, loud_level
from .features import FeatureConfig
from .spectrogram import SpectrogramExtractor
from .pipeline import MIN_SPEAKER_CLIPS, Normalizer, normalize_per_speaker

#: The small models shipped inside the package (see ravdess_tf/pretrained/README.md).
PRETRAINED_DIR = Path(__file__).parent / "pretrained"
RUN_FILES = ("best.keras", "config.json", "normalizer.json")
#: Seconds: shorter files get a warning; the models learned from 3 s clips of 2.9-5.3 s recordings.
MIN_SECONDS = 1.0
#: dBFS: a file (or window) whose loud frames (95th percentile of 25 ms frames) stay below this is
#: taken as silent and gets no emotion. RAVDESS's quietest speech has its loud frames near -54 dBFS.
NO_SPEECH_DBFS = -60.0
#: Files up to this many times the model's clip duration are read as one centred clip, as in training.
SINGLE_CLIP_FACTOR = 2.0
#: Hop between the windows of a long file, as a fraction of the window (half: 1.5 s for 3 s windows).
WINDOW_HOP = 0.5


def has_speech(audio: np.ndarray, sr: int) -> bool:
    """Whether ``audio`` holds anything louder than near-silence (see :data:`NO_SPEECH_DBFS`)."""
    return loud_level(audio, sr) >= NO_SPEECH_DBFS


def windows(audio: np.ndarray, config: FeatureConfig) -> list[tuple[float, float, np.ndarray]]:
    """The parts of a file a model reads: ``(start_s, end_s, samples)`` each.

    One part (the whole file, centred later) for files up to
    :data:`SINGLE_CLIP_FACTOR` x ``config.duration``; otherwise windows of
    ``config.duration`` every :data:`WINDOW_HOP` of it, the last one ending
    with the file.
    """
    sr, size = config.sample_rate, config.num_samples
    if len(audio) <= SINGLE_CLIP_FACTOR * size:
        return [(0.0, len(audio) / sr, audio)]
    hop = max(1, int(size * WINDOW_HOP))
    starts = list(range(0, len(audio) - size + 1, hop))
    if starts[-1] + size < len(audio):
        starts.append(len(audio) - size)
    return [(start / sr, (start + size) / sr, audio[start:start + size]) for start in starts]


def file_answer(timeline: pd.DataFrame) -> tuple[str | None, np.ndarray]:
    """A file's emotion and probabilities, shape ``(8,)``, from its :meth:`EmotionPredictor.timeline`.

    The mean of the probabilities of the windows with speech; ``(None, NaNs)``
    when no window has speech.
    """
    spoken = timeline[timeline["speech"]]
    if not len(spoken):
        return None, np.full(len(EMOTIONS), np.nan)
    probabilities = spoken[list(EMOTIONS)].mean().to_numpy()
    return EMOTIONS[int(np.argmax(probabilities))], probabilities


@dataclass
class EmotionPredictor:
    """A trained model with the feature configuration and statistics it was trained with."""

    model: object
    feature_config: FeatureConfig
    normalizer: Normalizer
    source: Path
    #: Trained with per-speaker normalisation: the files of one call are taken as one speaker's.
    speaker_normalization: bool = False
    #: A short name for what answers: a bundled model's name, else the run folder.
    name: str = ""
    #: "numpy" (:mod:`ravdess_tf.runtime`, no Keras backend to start) or "keras".
    runtime: str = "keras"

    @functools.cached_property
    def extractor(self):
        """Built once per predictor: it computes the mel basis, or loads the Whisper encoder."""
        if self.feature_config.kind == "whisper":
            from .whisper import WhisperFeatureExtractor

            return WhisperFeatureExtractor(self.feature_config, numpy=self.runtime == "numpy")
        return SpectrogramExtractor(self.feature_config)

    def _probabilities(self, features: list[np.ndarray]) -> np.ndarray:
        x = self.normalizer(np.stack(features))[..., None]
        return np.asarray(self.model.predict(x, verbose=0), dtype=np.float64)

    def _read(self, path) -> np.ndarray:
        audio = load_audio(path, self.feature_config.sample_rate)
        seconds = len(audio) / self.feature_config.sample_rate
        if seconds < MIN_SECONDS:
            warnings.warn(f"{path}: only {seconds:.2f} s of audio; the model learned from 3 s clips, so its "
                          "answer on so little is unreliable", UserWarning, stacklevel=3)
        return audio

    def predict_audio(self, recordings) -> np.ndarray:
        """Class probabilities, shape ``(recordings, 8)``, of mono 16 kHz arrays, each read as one centred clip.

        No silence check and no windows: what the model makes of exactly
        these samples (the robustness protocol uses it).
        """
        if self.speaker_normalization:
            raise ParameterError(f"{self.source} normalises each speaker over several files; use predict()")
        if self.feature_config.sample_rate != 16_000:
            raise ParameterError(f"predict_audio takes 16 kHz audio; this model reads {self.feature_config.sample_rate} Hz")
        return self._probabilities([self.extractor(np.asarray(audio, np.float32)) for audio in recordings])

    def timeline(self, path) -> pd.DataFrame:
        """The windows of one file: ``start_s``, ``end_s``, ``speech``, ``emotion`` and the 8 probabilities.

        A window without speech has no emotion and NaN probabilities.
        """
        return self.audio_timeline(self._read(path))

    def audio_timeline(self, audio: np.ndarray) -> pd.DataFrame:
        """:meth:`timeline` of mono audio at the model's sample rate, shape ``(samples,)``."""
        if self.speaker_normalization:
            raise ParameterError(f"{self.source} normalises each speaker over several files; it predicts whole "
                                 "files only, not windows")
        sr = self.feature_config.sample_rate
        parts = windows(audio, self.feature_config)
        speech = [has_speech(samples, sr) for _, _, samples in parts]
        probabilities = np.full((len(parts), len(EMOTIONS)), np.nan)
        if any(speech):
            probabilities[speech] = self._probabilities(
                [self.extractor(samples) for (_, _, samples), spoken in zip(parts, speech) if spoken])
        table = pd.DataFrame({"start_s": [round(start, 3) for start, _, _ in parts],
                              "end_s": [round(end, 3) for _, end, _ in parts], "speech": speech,
                              "emotion": [EMOTIONS[int(np.argmax(row))] if spoken else None
                                          for row, spoken in zip(probabilities, speech)]})
        for index, emotion in enumerate(EMOTIONS):
            table[emotion] = probabilities[:, index]
        return table

    def predict(self, paths, progress: bool = False, return_timelines: bool = False):
        """One row per file: its answer and how it was reached.

        Columns ``path``; ``emotion`` (the most likely, or None when the file
        holds no speech); ``no_speech``; ``seconds``; ``windows`` (how many
        were averaged: 1 for a file of up to twice the model's clip length);
        then one probability per emotion (NaN without speech). ``progress``
        shows a progress bar over the files. With ``return_timelines``, also
        each file's :meth:`timeline` (with a ``path`` column), the windows the
        answers were averaged from: ``(table, timelines)``.
        """
        from tqdm.auto import tqdm

        paths = [str(p) for p in paths]
        if not paths:
            raise ParameterError("no audio files given to predict")
        if self.speaker_normalization and not return_timelines:
            return self._predict_one_speaker(paths)
        rows, timelines = [], []
        for path in tqdm(paths, desc="Predicting", unit="file", disable=not progress):
            table = self.timeline(path)
            timelines.append(table.assign(path=path))
            emotion, probabilities = file_answer(table)
            rows.append({"path": path, "emotion": emotion, "no_speech": emotion is None,
                         "seconds": round(float(table["end_s"].max()), 3), "windows": int(table["speech"].sum()),
                         **dict(zip(EMOTIONS, probabilities))})
        return (pd.DataFrame(rows), timelines) if return_timelines else pd.DataFrame(rows)

    def _predict_one_speaker(self, paths) -> pd.DataFrame:
        """All files as one speaker's clips, standardised by that speaker's statistics (one centred clip each)."""
        if len(paths) < MIN_SPEAKER_CLIPS:
            raise ParameterError(
                f"{self.source} normalises each speaker by their own clips: give at least "
                f"{MIN_SPEAKER_CLIPS} files of one speaker in one call (got {len(paths)}), or use a "
                "model trained without speaker normalisation")
        audio = [self._read(path) for path in paths]
        silent = [path for path, samples in zip(paths, audio) if not has_speech(samples, self.feature_config.sample_rate)]
        if silent:
            raise ParameterError(f"no speech in {', '.join(silent)}: a speaker-normalised model needs speech in "
                                 "every file")
        features = normalize_per_speaker(np.stack([self.extractor(samples) for samples in audio]), np.zeros(len(paths)))
        probabilities = np.asarray(self.model.predict(self.normalizer(features)[..., None], verbose=0), np.float64)
        table = pd.DataFrame({"path": paths, "emotion": [EMOTIONS[i] for i in probabilities.argmax(axis=1)],
                              "no_speech": False,
                              "seconds": [round(len(a) / self.feature_config.sample_rate, 3) for a in audio],
                              "windows": 1})
        for index, emotion in enumerate(EMOTIONS):
            table[emotion] = probabilities[:, index]
        return table


def choose_runtime(run_dir: str | os.PathLike, runtime: str = "auto") -> str:
    """``"numpy"`` or ``"keras"``: how :func:`load_run` will run the model of ``run_dir``.

    ``"auto"`` takes NumPy (:mod:`ravdess_tf.runtime`) for the kinds of model
    it runs (the transformer and the linear pooled head, on features it can
    compute) and Keras for the rest.
    """
    if runtime not in ("auto", "numpy", "keras"):
        raise ParameterError(f"runtime must be 'auto', 'numpy' or 'keras', got {runtime!r}")
    # training.baseline.SVM_FILE, named here rather than imported: predict's cold start stays light
    if (Path(run_dir) / "svm.joblib").is_file():
        raise ParameterError(
            f"{str(run_dir)!r} is a run of the SVM baseline: it stands in the study's tables and has no Keras model "
            "to predict with. Pass a network's run folder, or use a bundled model.")
    missing = [name for name in RUN_FILES if not (Path(run_dir) / name).is_file()]
    if missing:
        raise ParameterError(
            f"{str(run_dir)!r} is not a finished training run: {', '.join(missing)} missing. "
            "Pass the folder that `ravdess-tf train` wrote.")
    if runtime != "auto":
        return runtime
    from .runtime import read_keras_config, supports

    feature_config = json.loads((Path(run_dir) / "config.json").read_text())["feature_config"]
    whisper_padded = feature_config.get("kind") == "whisper" and feature_config.get("pad_to_30s")
    return "numpy" if supports(read_keras_config(Path(run_dir) / "best.keras")) and not whisper_padded else "keras"


def load_run(run_dir: str | os.PathLike, runtime: str = "auto") -> EmotionPredictor:
    """The selected model of a training run folder (or of a bundled model's folder).

    Parameters
    ----------
    run_dir : path
        A folder written by :func:`ravdess_tf.training.train`.
    runtime : {"auto", "numpy", "keras"}
        See :func:`choose_runtime`; both give the same probabilities.
    """
    run_dir = Path(run_dir)
    runtime = choose_runtime(run_dir, runtime)
    if runtime == "numpy":
        from .runtime import NumpyModel

        model = NumpyModel(run_dir / "best.keras")
    else:
        import keras

        from .models import register_custom_layers

        register_custom_layers()
        model = keras.models.load_model(run_dir / "best.keras")
    config = json.loads((run_dir / "config.json").read_text())
    return EmotionPredictor(
        model=model,
        feature_config=FeatureConfig.from_dict(config["feature_config"]),
        normalizer=Normalizer.from_dict(json.loads((run_dir / "normalizer.json").read_text())),
        source=run_dir,
        speaker_normalization=bool(config["train"].get("speaker_normalization", False)),
        name=str(run_dir),
        runtime=runtime,
    )


#: The bundled models by name: folders with best.keras, config.json and normalizer.json.
PRETRAINED = {
    "logmel": PRETRAINED_DIR,  # needs nothing beyond the core install
    "whisper": PRETRAINED_DIR / "whisper",  # a head on the Whisper-base encoder (ravdess-tf[whisper])
}
#: What each bundled model is, for the line that says which one answered.
PRETRAINED_DESCRIPTIONS = {
    "logmel": "bundled log-mel transformer",
    "whisper": "bundled Whisper-base linear head",
}


def whisper_installed() -> bool:
    """Whether the ``whisper`` extra is installed: faster-whisper, ctranslate2 and the offline weights."""
    import importlib.util

    from .whisper import WHISPER_MODELS

    modules = ("faster_whisper", "ctranslate2", *WHISPER_MODELS["base"].packages)
    return all(importlib.util.find_spec(module) is not None for module in modules)


def resolve_pretrained(name: str = "auto") -> str:
    """The bundled model ``name`` stands for: ``"auto"`` is ``"whisper"`` when its extra is installed, else ``"logmel"``."""
    if name == "auto":
        return "whisper" if whisper_installed() else "logmel"
    if name not in PRETRAINED:
        raise ParameterError(f"Unknown bundled model {name!r}; bundled: auto, {', '.join(PRETRAINED)}")
    return name


def load_pretrained(name: str = "auto", runtime: str = "auto") -> EmotionPredictor:
    """A model bundled with the package, trained on all 24 actors.

    Parameters
    ----------
    name : {"auto", "logmel", "whisper"}
        ``"whisper"``: a linear head on the frozen Whisper-base encoder, the
        better of the two on new speakers; it needs
        ``pip install "ravdess-tf[whisper]"``. ``"logmel"``: a small
        transformer on log-mel spectrograms (nothing more to install).
        ``"auto"``: ``"whisper"`` when its extra is installed, else ``"logmel"``.
    runtime : {"auto", "numpy", "keras"}
        See :func:`choose_runtime`: the bundled models run in NumPy unless asked otherwise.

    Returns
    -------
    EmotionPredictor
        Its ``name`` says which model it is.
    """
    name = resolve_pretrained(name)
    if not (PRETRAINED[name] / "best.keras").is_file():
        raise ParameterError(
            f"The bundled model {name!r} is missing from {PRETRAINED[name]}; reinstall ravdess-tf, or use "
            "a model you trained: load_run(RUN_DIR) (--model RUN_DIR).")
    predictor = load_run(PRETRAINED[name], runtime=runtime)
    predictor.name = PRETRAINED_DESCRIPTIONS[name]
    return predictor
