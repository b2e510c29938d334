"""Augmented copies of whole clips, made from the audio: white noise and a pitch shift.

They serve twice. Made of *training* clips only they are a lever of the training recipe
(``TrainConfig(augmented_copies=True)``, ``results/ablation.md``); pooled with every clip before a
random split, as widely copied RAVDESS notebooks do, they put near duplicates of test clips in
training (:mod:`ravdess_tf.leakage`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .atomic import save_array
from .audio import read_clip
from .cache import cache_key, default_cache_dir
from .exceptions import ParameterError
from .features import extract_features
from .spectrogram import SpectrogramExtractor

#: The augmented copies made of every clip, as in widely copied RAVDESS notebooks: white noise of up to
#: 3.5 % of the clip's peak, and the pitch raised by 0.7 semitone (librosa.effects.pitch_shift).
AUGMENTATIONS = ("noise", "pitch")
NOISE_PEAK_FRACTION = 0.035
PITCH_SEMITONES = 0.7


def augment_clip(audio: np.ndarray, augmentation: str, sr: int, rng: np.random.Generator) -> np.ndarray:
    """One augmented copy of a clip.

    Parameters
    ----------
    audio : numpy.ndarray
        Mono samples, shape ``(samples,)``.
    augmentation : {"noise", "pitch"}
        ``"noise"`` adds Gaussian noise of standard deviation up to :data:`NOISE_PEAK_FRACTION` of the
        peak; ``"pitch"`` shifts the pitch by :data:`PITCH_SEMITONES`.
    sr : int
        Sample rate in Hz.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray
        float32, the same length as ``audio``.
    """
    audio = np.asarray(audio, np.float32)
    if augmentation == "noise":
        amplitude = NOISE_PEAK_FRACTION * rng.uniform() * float(np.abs(audio).max(initial=0.0))
        return (audio + amplitude * rng.standard_normal(audio.shape)).astype(np.float32)
    if augmentation == "pitch":
        import librosa

        return librosa.effects.pitch_shift(audio, sr=sr, n_steps=PITCH_SEMITONES).astype(np.float32)
    raise ParameterError(f"Unknown augmentation {augmentation!r}; valid: {', '.join(AUGMENTATIONS)}")


def augmented_copies(metadata: pd.DataFrame, feature_config, *, seed: int = 0, cache_dir=None,
                     progress: bool = True) -> np.ndarray:
    """Features of each of the :data:`AUGMENTATIONS` of every clip, cached.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(AUGMENTATIONS), clips, n_features, frames)``: one block per augmentation, rows in
        ``metadata`` order.
    """
    from tqdm.auto import tqdm

    if feature_config.kind == "whisper":
        raise ParameterError("augmented copies are made for log-mel or MFCC features, not Whisper's")
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    key = cache_key(list(metadata["path"]), feature_config)
    path = cache_dir / f"augmented-{'+'.join(AUGMENTATIONS)}-seed{seed}-{key}.npy"
    if path.is_file():
        return np.load(path)
    extractor = SpectrogramExtractor(feature_config)
    rng = np.random.default_rng(seed)
    copies = np.empty((len(AUGMENTATIONS), len(metadata), *feature_config.shape), np.float32)
    for row, clip_path in enumerate(tqdm(metadata["path"], desc="Augmenting clips", disable=not progress)):
        audio = read_clip(clip_path, feature_config)
        for block, augmentation in enumerate(AUGMENTATIONS):
            copies[block, row] = extractor(augment_clip(audio, augmentation, feature_config.sample_rate, rng))
    cache_dir.mkdir(parents=True, exist_ok=True)
    save_array(path, copies)
    return copies


def augmented_features(metadata: pd.DataFrame, feature_config, *, seed: int = 0, cache_dir=None,
                       progress: bool = True) -> np.ndarray:
    """Features of every clip and of each of its :data:`AUGMENTATIONS` (:func:`augmented_copies`), cached.

    Returns
    -------
    numpy.ndarray
        Shape ``(1 + len(AUGMENTATIONS), clips, n_features, frames)``: the originals first (from the
        feature cache), then one block per augmentation, rows in ``metadata`` order.
    """
    copies = augmented_copies(metadata, feature_config, seed=seed, cache_dir=cache_dir, progress=progress)
    original = extract_features(metadata, feature_config, cache_dir=cache_dir, progress=progress)
    return np.concatenate([original[None], copies])
