"""Pieces every model builder shares: argument checks, the classification head,
and the batch-normalisation momentum that works with 30 steps an epoch."""

from __future__ import annotations

import keras
from keras import layers

from ..exceptions import ParameterError

#: Momentum of every BatchNormalization layer. Keras' default (0.99) averages
#: over ~100 steps; with 960 clips (30 steps an epoch) the inference-mode
#: statistics lagged so far behind that a CNN predicted one class for every
#: clip for 10+ epochs while it learned in training mode. 0.9 (~10 steps) fixed it.
BN_MOMENTUM = 0.9


def check_input_shape(input_shape, model_name: str, min_size: tuple[int, int] = (1, 1)) -> tuple[int, int, int]:
    """Validate ``(bands, frames, channels)`` and each network's minimum spatial size."""
    try:
        shape = tuple(int(d) for d in input_shape)
    except (TypeError, ValueError):
        raise ParameterError(
            f"{model_name}: input_shape must be (bands, frames, channels), got {input_shape!r}") from None
    if len(shape) != 3 or min(shape) < 1:
        raise ParameterError(
            f"{model_name}: input_shape must be three positive sizes (bands, frames, channels), "
            f"e.g. (128, 188, 1); got {input_shape!r}")
    if shape[0] < min_size[0] or shape[1] < min_size[1]:
        raise ParameterError(
            f"{model_name} needs an input of at least {min_size[0]}x{min_size[1]} (bands x frames); "
            f"got {shape[0]}x{shape[1]}. Use more mel bands or frames, or another model.")
    return shape


def check_num_classes(num_classes) -> int:
    if not isinstance(num_classes, int) or num_classes < 2:
        raise ParameterError(f"num_classes must be an integer of at least 2, got {num_classes!r}")
    return num_classes


def check_fraction(name: str, value) -> float:
    if not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ParameterError(f"{name} must be in [0, 1), got {value!r}")
    return float(value)


def check_positive(name: str, value) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ParameterError(f"{name} must be a positive integer, got {value!r}")
    return value


def check_width(width) -> float:
    """A multiplier of filters and units: 1.0 is the full network, 0.25 a CPU-sized one."""
    if not isinstance(width, (int, float)) or isinstance(width, bool) or not 0 < width <= 4:
        raise ParameterError(f"width must be a number in (0, 4], got {width!r}")
    return float(width)


def softmax_output(x, num_classes: int):
    """The classifier every model ends with: a dense softmax named ``predictions``.

    It computes in float32 even under a mixed-precision policy, so that
    probabilities sum to 1 at full precision.
    """
    return layers.Dense(num_classes, activation="softmax", dtype="float32", name="predictions")(x)


def set_batchnorm_momentum(model: keras.Model, momentum: float = BN_MOMENTUM) -> keras.Model:
    """Set the momentum of every BatchNormalization layer in ``model`` (in place)."""
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            layer.momentum = momentum
    return model
