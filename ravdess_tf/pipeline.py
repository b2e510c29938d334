"""Input pipelines, the NumPy part: standardisation, per-speaker normalisation, augmentation, class weights.

The batches are defined once, by :class:`ravdess_tf.batches.ArrayBatches`, a
``keras.utils.PyDataset`` that works under every Keras backend: it
standardises every mel band with statistics of the *training* clips
(:func:`fit_normalizer`), adds a channel axis, and in training shuffles and
applies SpecAugment-style augmentation (:func:`augment_batch`, in NumPy).
Which clips form batch ``i`` of epoch ``e`` and how they are augmented is a
pure function of ``(seed, e, i)``, so a run sees the same batches under
TensorFlow and JAX, whatever order or how often Keras asks for them, and
after it is resumed. :func:`ravdess_tf.batches.make_dataset` serves the same
batches as a ``tf.data.Dataset`` for code that wants one. This module needs
no Keras backend.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .data import EMOTIONS
from .exceptions import ParameterError


@dataclass(frozen=True)
class Normalizer:
    """Per-band mean and standard deviation of the training features.

    ``mean`` and ``std`` have shape ``(n_features, 1)`` so that they broadcast
    over the frames of a ``(n_features, frames)`` clip.
    """

    mean: np.ndarray
    std: np.ndarray

    def __call__(self, features: np.ndarray) -> np.ndarray:
        return ((features - self.mean) / self.std).astype(np.float32)

    def to_dict(self) -> dict:
        return {"mean": self.mean.ravel().tolist(), "std": self.std.ravel().tolist()}

    @classmethod
    def from_dict(cls, values: dict) -> "Normalizer":
        return cls(np.asarray(values["mean"], np.float32)[:, None], np.asarray(values["std"], np.float32)[:, None])


def fit_normalizer(train_features: np.ndarray) -> Normalizer:
    """Per-band statistics of ``train_features`` (clips, n_features, frames).

    Fit on the training split only: statistics that include validation or test
    clips leak information about them.
    """
    train_features = _check_features(train_features)
    mean = train_features.mean(axis=(0, 2), dtype=np.float64)[:, None]
    std = train_features.std(axis=(0, 2), dtype=np.float64)[:, None]
    return Normalizer(mean.astype(np.float32), np.maximum(std, 1e-6).astype(np.float32))


#: Fewest clips of one speaker whose statistics :func:`normalize_per_speaker` trusts.
MIN_SPEAKER_CLIPS = 8


def normalize_per_speaker(features: np.ndarray, speakers, reference=None) -> np.ndarray:
    """Standardise each speaker's clips with that speaker's own per-band statistics.

    Speaker normalisation: every band is centred and scaled by its mean and
    standard deviation over all clips and frames *of the same speaker*, so
    what remains is how a clip differs from that speaker's usual voice. It
    needs no labels, but it does need several clips of every speaker,
    including the test speakers (it adapts to them, unsupervised). On RAVDESS
    each actor's clips cover the eight emotions evenly; a speaker heard only
    in one mood gets statistics biased towards it.

    Parameters
    ----------
    features : numpy.ndarray
        Shape ``(clips, n_features, frames)``.
    speakers : array-like
        Shape ``(clips,)``: who speaks in each clip (e.g. the ``actor`` column).
    reference : array-like of bool or None
        Shape ``(clips,)``: the clips whose statistics describe their speaker
        (e.g. only some of each speaker's clips); ``None`` means all.

    Returns
    -------
    numpy.ndarray
        float32, the shape of ``features``.

    Raises
    ------
    ParameterError
        If the lengths differ, or a speaker has fewer than
        :data:`MIN_SPEAKER_CLIPS` reference clips.
    """
    features = _check_features(features)
    speakers = np.asarray(speakers)
    reference = np.ones(len(features), bool) if reference is None else np.asarray(reference, bool)
    if speakers.shape != (len(features),):
        raise ParameterError(f"speakers must give one speaker per clip: {len(features)} clips, "
                             f"speakers of shape {speakers.shape}")
    if reference.shape != (len(features),):
        raise ParameterError(f"reference must give one flag per clip: {len(features)} clips, "
                             f"reference of shape {reference.shape}")
    normalized = np.empty(features.shape, np.float32)
    for speaker in np.unique(speakers):
        clips = speakers == speaker
        described_by = clips & reference
        if described_by.sum() < MIN_SPEAKER_CLIPS:
            raise ParameterError(
                f"speaker {speaker.item()!r} has {int(described_by.sum())} clips; per-speaker "
                f"normalisation needs at least {MIN_SPEAKER_CLIPS} clips of every speaker")
        normalized[clips] = fit_normalizer(features[described_by])(features[clips])
    return normalized


@dataclass(frozen=True)
class AugmentConfig:
    """On-the-fly augmentation of standardised spectrograms in training.

    Examples
    --------
    >>> AugmentConfig(freq_masks=2, time_masks=2).freq_mask_width
    12
    >>> AugmentConfig(freq_masks=-1)
    Traceback (most recent call last):
    ...
    ravdess_tf.exceptions.ParameterError: AugmentConfig.freq_masks must be an integer >= 0, got -1
    """

    #: Frequency masks per clip (SpecAugment), each up to this many bands wide.
    freq_masks: int = 1
    freq_mask_width: int = 12
    #: Time masks per clip, each up to this many frames wide (a frame is one hop: 16 ms at the default
    #: 256 samples, 25 ms at the full preset's 400).
    time_masks: int = 1
    time_mask_width: int = 20
    #: Largest circular time shift, as a fraction of the frames (0.1 = 0.3 s of 3 s).
    max_shift: float = 0.1
    #: Standard deviation of added Gaussian noise, in units of the standardised features.
    noise_std: float = 0.05

    def __post_init__(self):
        for name in ("freq_masks", "freq_mask_width", "time_masks", "time_mask_width"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ParameterError(f"AugmentConfig.{name} must be an integer >= 0, got {value!r}")
        if not (isinstance(self.max_shift, (int, float)) and 0 <= self.max_shift < 1):
            raise ParameterError(f"AugmentConfig.max_shift must be a fraction of the frames in [0, 1), "
                                 f"got {self.max_shift!r}")
        if not (isinstance(self.noise_std, (int, float)) and self.noise_std >= 0):
            raise ParameterError(f"AugmentConfig.noise_std must be a number >= 0, got {self.noise_std!r}")


def augment_batch(batch: np.ndarray, rng: np.random.Generator, config: AugmentConfig = AugmentConfig()) -> np.ndarray:
    """Augment a batch of standardised spectrograms.

    Parameters
    ----------
    batch : numpy.ndarray
        Shape ``(batch, n_features, frames)`` or ``(batch, n_features, frames, 1)``.
    rng : numpy.random.Generator
        The source of randomness (seed it for reproducible runs).
    config : AugmentConfig

    Returns
    -------
    numpy.ndarray
        A new array of the same shape and dtype; masked regions are 0, the
        standardised mean.
    """
    out = np.array(batch, dtype=np.float32, copy=True)
    n_bands, n_frames = out.shape[1], out.shape[2]
    for clip in out:
        max_shift = int(config.max_shift * n_frames)
        if max_shift:
            clip[:] = np.roll(clip, rng.integers(-max_shift, max_shift + 1), axis=1)
        for _ in range(config.freq_masks):
            width = rng.integers(0, min(config.freq_mask_width, n_bands) + 1)
            start = rng.integers(0, n_bands - width + 1)
            clip[start:start + width] = 0.0
        for _ in range(config.time_masks):
            width = rng.integers(0, min(config.time_mask_width, n_frames) + 1)
            start = rng.integers(0, n_frames - width + 1)
            clip[:, start:start + width] = 0.0
    if config.noise_std:
        out += rng.normal(0.0, config.noise_std, out.shape).astype(np.float32)
    return out


def mixup_batch(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Mix a batch with itself in another order (mixup, Zhang et al. 2018).

    Parameters
    ----------
    x : numpy.ndarray
        Inputs, shape ``(batch, ...)``.
    y : numpy.ndarray
        One-hot (or already soft) labels, shape ``(batch, classes)``.
    rng : numpy.random.Generator
        Draws the mixing weight and the partner order.
    alpha : float
        Positive; the weight ``lam`` is drawn from Beta(alpha, alpha). Small
        alphas (0.2) keep most mixes close to one of the two clips.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``lam * x + (1 - lam) * x[order]`` and the same mix of ``y``, float32.

    Examples
    --------
    >>> x, y = np.ones((4, 2, 3)), np.eye(4)
    >>> mixed_x, mixed_y = mixup_batch(x, y, np.random.default_rng(0), alpha=0.2)
    >>> mixed_y.sum(axis=1)
    array([1., 1., 1., 1.], dtype=float32)
    """
    if not alpha > 0:
        raise ParameterError(f"mixup alpha must be positive, got {alpha!r}")
    if len(x) != len(y) or np.ndim(y) != 2:
        raise ParameterError(f"mixup needs one-hot labels of shape ({len(x)}, classes), got {np.shape(y)}")
    lam = rng.beta(alpha, alpha)
    order = rng.permutation(len(x))
    mixed_x = (lam * x + (1 - lam) * x[order]).astype(np.float32)
    mixed_y = (lam * y + (1 - lam) * y[order]).astype(np.float32)
    return mixed_x, mixed_y


def _augment_config(augment: bool | AugmentConfig | None) -> AugmentConfig | None:
    """``True`` means the default augmentation, ``False`` or ``None`` none."""
    if isinstance(augment, AugmentConfig):
        return augment
    return AugmentConfig() if augment else None


def _check_features(features) -> np.ndarray:
    features = np.asarray(features)
    if features.ndim != 3:
        raise ParameterError(
            f"features must have shape (clips, n_features, frames), got shape {features.shape}")
    return features


def _check_inputs(features, labels, batch_size):
    features = _check_features(features)
    labels = np.asarray(labels)
    if labels.shape != (len(features),):
        raise ParameterError(
            f"labels must have shape ({len(features)},) to match the features, got {labels.shape}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ParameterError(f"batch_size must be a positive integer, got {batch_size!r}")
    return features, labels.astype(np.int32)


def class_weights_for(labels: np.ndarray, num_classes: int = len(EMOTIONS)) -> dict[int, float]:
    """Inverse-frequency weights, ``n / (k * count)``, for the classes present."""
    counts = np.bincount(labels, minlength=num_classes)
    present = counts > 0
    weights = np.zeros(num_classes)
    weights[present] = len(labels) / (present.sum() * counts[present])
    return {int(c): float(weights[c]) for c in np.flatnonzero(present)}
