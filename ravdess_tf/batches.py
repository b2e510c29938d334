"""Batches for ``model.fit``: :class:`ArrayBatches` (a ``keras.utils.PyDataset``, the same batches under
every backend) and :func:`make_dataset` (the same batches as a ``tf.data.Dataset``).

Importing this module imports Keras; :mod:`ravdess_tf.pipeline` holds the NumPy parts (standardisation,
augmentation) that need no backend.
"""

from __future__ import annotations

import math

import keras
import numpy as np

from .exceptions import ParameterError
from .pipeline import (AugmentConfig, Normalizer, _augment_config, _check_inputs, augment_batch, fit_normalizer,
                       mixup_batch)


class ArrayBatches(keras.utils.PyDataset):
    """Standardised, shuffled and augmented batches of arrays, for ``model.fit`` under any backend.

    Parameters
    ----------
    features : numpy.ndarray
        Shape ``(clips, n_features, frames)``.
    labels : numpy.ndarray
        Integer class labels, shape ``(clips,)``.
    batch_size : int
    shuffle : bool
        A new order every epoch (training).
    augment : bool, AugmentConfig or None
        Augment on the fly (training only); ``True`` means ``AugmentConfig()``, ``False`` or ``None`` none.
    seed : int
        Non-negative; with the epoch and the batch index it fixes every
        random choice (order, masks, shifts, noise).
    normalizer : Normalizer or None
        Statistics to standardise with; ``None`` fits them on ``features``.
    num_classes : int or None
        Give the labels one-hot, shape ``(batch, num_classes)``, for a
        categorical loss (label smoothing, mixup); ``None``: class indices.
    mixup_alpha : float
        Mix every batch with itself (:func:`ravdess_tf.pipeline.mixup_batch`),
        after augmenting it; needs ``num_classes``. 0: no mixing.

    Notes
    -----
    Batch ``i`` of epoch ``e`` depends only on ``(seed, e, i)``: Keras may
    ask for batches ahead (TensorFlow reads two to learn their shapes),
    and the batches stay the same. :meth:`on_epoch_end` moves to the
    next epoch; :meth:`set_epoch` jumps to one (a resumed run).
    """

    def __init__(self, features, labels, batch_size=32, shuffle=False, augment=False, seed=0,
                 normalizer=None, num_classes=None, mixup_alpha=0.0, **kwargs):
        super().__init__(**kwargs)
        features, labels = _check_inputs(features, labels, batch_size)
        if not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ParameterError(f"seed must be a non-negative integer, got {seed!r}")
        if num_classes is not None and not (isinstance(num_classes, int) and num_classes > labels.max(initial=0)):
            raise ParameterError(f"num_classes must be an integer above every label ({labels.max(initial=0)}), "
                                 f"got {num_classes!r}")
        if not mixup_alpha >= 0:
            raise ParameterError(f"mixup_alpha must be >= 0, got {mixup_alpha!r}")
        if mixup_alpha and num_classes is None:
            raise ParameterError("mixup_alpha mixes one-hot labels: give num_classes too")
        self.num_classes = num_classes
        self.mixup_alpha = float(mixup_alpha)
        self.normalizer = normalizer or fit_normalizer(features)
        self.x = self.normalizer(features)[..., None]
        self.y = labels
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.augment = _augment_config(augment)
        self.seed = int(seed)
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        """Serve the batches of ``epoch`` (0-based) from now on."""
        self.epoch = int(epoch)
        self.order = (np.random.default_rng((self.seed, self.epoch)).permutation(len(self.y)) if self.shuffle
                      else np.arange(len(self.y)))

    def __len__(self):
        return math.ceil(len(self.y) / self.batch_size)

    def __getitem__(self, index):
        rows = self.order[index * self.batch_size:(index + 1) * self.batch_size]
        x = self.x[rows]
        rng = np.random.default_rng((self.seed, self.epoch, int(index)))
        if self.augment is not None:
            x = augment_batch(x, rng, self.augment)
        if self.num_classes is None:
            return x, self.y[rows]
        y = np.eye(self.num_classes, dtype=np.float32)[self.y[rows]]
        if self.mixup_alpha:
            x, y = mixup_batch(x, y, rng, self.mixup_alpha)
        return x, y

    def on_epoch_end(self):
        self.set_epoch(self.epoch + 1)


def make_dataset(
    features: np.ndarray,
    labels: np.ndarray,
    batch_size: int = 32,
    shuffle: bool = False,
    augment: bool | AugmentConfig = False,
    seed: int = 0,
    normalizer: Normalizer | None = None,
):
    """A ``tf.data.Dataset`` of the batches of :class:`ArrayBatches` (TensorFlow only).

    The arguments are :class:`ArrayBatches`'; ``normalizer=None`` fits the
    statistics on ``features``, which is right only for the training split.

    Returns
    -------
    tf.data.Dataset
        Batches ``x`` of shape ``(batch, n_features, frames, 1)`` float32 and
        ``y`` of shape ``(batch,)`` int32. Each pass over it is the next
        epoch of :class:`ArrayBatches` with the same arguments.
    """
    import tensorflow as tf

    batches = ArrayBatches(features, labels, batch_size=batch_size, shuffle=shuffle, augment=augment,
                           seed=seed, normalizer=normalizer)

    def one_epoch():
        for index in range(len(batches)):
            yield batches[index]
        batches.on_epoch_end()

    x, _ = batches[0]
    signature = (tf.TensorSpec((None, *x.shape[1:]), tf.float32), tf.TensorSpec((None,), tf.int32))
    return tf.data.Dataset.from_generator(one_epoch, output_signature=signature).prefetch(tf.data.AUTOTUNE)
