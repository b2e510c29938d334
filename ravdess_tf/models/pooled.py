"""A light head for frame embeddings: pool over time, then one dense softmax.

Made for the hidden states of a frozen Whisper encoder
(``FeatureConfig(kind="whisper")``), where 960 training clips are too few
for anything deeper: with mean+std pooling it is a linear classifier on
the clip's statistics, the head that scored best over 6 actor folds
(``results/whisper.md``). It accepts any ``(features, frames, 1)`` input,
log-mel included.
"""

from __future__ import annotations

import keras
from keras import layers

from ..exceptions import ParameterError
from .common import check_fraction, check_input_shape, check_num_classes, softmax_output
from .lstm import frames_as_sequence

POOLINGS = ("stats", "attention")


@keras.saving.register_keras_serializable(package="ravdess_tf")
class WeightedMeanStd(layers.Layer):
    """Mean and standard deviation over frames under per-frame weights.

    Inputs ``[weights (batch, frames, 1), frames (batch, frames, d)]``, the
    weights summing to 1 over frames; output ``(batch, 2 d)``. Uniform
    weights give plain mean+std pooling.
    """

    def call(self, inputs):
        weights, frames = inputs
        mean = keras.ops.sum(weights * frames, axis=1)
        second_moment = keras.ops.sum(weights * keras.ops.square(frames), axis=1)
        std = keras.ops.sqrt(keras.ops.maximum(second_moment - keras.ops.square(mean), 0.0) + 1e-6)
        return keras.ops.concatenate([mean, std], axis=-1)


@keras.saving.register_keras_serializable(package="ravdess_tf")
class UniformWeights(layers.Layer):
    """Weight 1 / frames for every frame: ``(batch, frames, d) -> (batch, frames, 1)``."""

    def call(self, frames):
        return keras.ops.ones_like(frames[..., :1]) / keras.ops.cast(keras.ops.shape(frames)[1], frames.dtype)


def build_pooled(
    input_shape,
    num_classes: int = 8,
    *,
    pooling: str = "stats",
    hidden_units: int = 0,
    dropout: float = 0.5,
) -> keras.Model:
    """Time pooling then a softmax: a linear head when ``hidden_units=0``.

    Parameters
    ----------
    input_shape : tuple
        ``(features, frames, 1)``, e.g. ``(1536, 151, 1)`` for Whisper-base
        layers 2-4 on 3 s clips.
    num_classes : int
    pooling : {"stats", "attention"}
        ``"stats"``: each feature's mean and standard deviation over frames
        (2 x features values). ``"attention"``: a learned score per frame,
        softmax over frames, and the weighted mean and standard deviation.
    hidden_units : int
        Units of one hidden ReLU layer after pooling; 0 for none (linear head).
    dropout : float
        Dropout on the pooled vector (and after the hidden layer).
    """
    shape = check_input_shape(input_shape, "pooled")
    num_classes = check_num_classes(num_classes)
    dropout = check_fraction("dropout", dropout)
    if pooling not in POOLINGS:
        raise ParameterError(f"pooled: pooling must be one of {POOLINGS}, got {pooling!r}")
    if not isinstance(hidden_units, int) or hidden_units < 0:
        raise ParameterError(f"pooled: hidden_units must be a non-negative integer, got {hidden_units!r}")

    inputs = keras.Input(shape=shape, name="features")
    frames = frames_as_sequence(inputs, shape)
    if pooling == "stats":
        weights = UniformWeights(name="uniform_weights")(frames)
    else:
        # Scores come through a 64-unit bottleneck so that 960 clips can fit them.
        scores = layers.Dense(64, activation="tanh", name="attention_hidden")(frames)
        scores = layers.Dense(1, name="attention_score")(scores)
        weights = layers.Softmax(axis=1, name="attention_weights")(scores)
    x = WeightedMeanStd(name="pooled")([weights, frames])
    x = layers.Dropout(dropout, name="pooled_dropout")(x)
    if hidden_units:
        x = layers.Dense(hidden_units, activation="relu", name="hidden")(x)
        x = layers.Dropout(dropout, name="hidden_dropout")(x)
    outputs = softmax_output(x, num_classes)
    return keras.Model(inputs, outputs, name="pooled")

