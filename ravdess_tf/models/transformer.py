"""A Transformer encoder over the frames of a spectrogram."""

from __future__ import annotations

import math

import keras
from keras import layers, ops

from ..exceptions import ParameterError
from .common import check_fraction, check_input_shape, check_num_classes, check_positive, softmax_output
from .lstm import frames_as_sequence


@keras.saving.register_keras_serializable(package="ravdess_tf")
class SinusoidalPositions(layers.Layer):
    """Adds the fixed sine/cosine position code of Vaswani et al. (2017).

    PE(t, 2i) = sin(t / 10000^(2i/d)), PE(t, 2i+1) = cos(t / 10000^(2i/d)).
    It has no weights, so it works for any sequence length.
    """

    def call(self, inputs):
        length, width = ops.shape(inputs)[1], ops.shape(inputs)[2]
        positions = ops.cast(ops.arange(length), "float32")[:, None]
        rates = ops.exp(ops.cast(ops.arange(0, width, 2), "float32") * (-math.log(10000.0) / width))
        angles = positions * rates[None, :]
        code = ops.reshape(ops.stack([ops.sin(angles), ops.cos(angles)], axis=-1), (length, -1))[:, :width]
        return inputs + ops.cast(code, inputs.dtype)[None]


def encoder_block(x, width: int, heads: int, ff_width: int, dropout: float, index: int):
    """One pre-norm encoder block: self-attention, then a feed-forward layer, each residual."""
    attended = layers.LayerNormalization(epsilon=1e-6, name=f"block{index}_attention_norm")(x)
    attended = layers.MultiHeadAttention(
        heads, width // heads, dropout=dropout, name=f"block{index}_attention")(attended, attended)
    x = layers.Add(name=f"block{index}_attention_residual")([
        x, layers.Dropout(dropout, name=f"block{index}_attention_dropout")(attended)])
    fed = layers.LayerNormalization(epsilon=1e-6, name=f"block{index}_ff_norm")(x)
    fed = layers.Dense(ff_width, activation="gelu", name=f"block{index}_ff_expand")(fed)
    fed = layers.Dense(width, name=f"block{index}_ff_project")(fed)
    return layers.Add(name=f"block{index}_ff_residual")([
        x, layers.Dropout(dropout, name=f"block{index}_ff_dropout")(fed)])


def build_transformer(
    input_shape,
    num_classes: int = 8,
    *,
    width: int = 128,
    depth: int = 4,
    heads: int = 4,
    ff_multiplier: int = 2,
    frame_stride: int = 2,
    dropout: float = 0.1,
) -> keras.Model:
    """Transformer encoder: Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V over frames.

    Each frame (a vector of mel bands) is embedded by a 1-D convolution that
    also merges ``frame_stride`` neighbouring frames (188 frames of 16 ms
    become 94 tokens of 32 ms: attention costs the square of the length),
    sinusoidal positions are added, ``depth`` pre-norm encoder blocks follow,
    and the tokens are mean-pooled into one vector for the softmax.

    Parameters
    ----------
    input_shape : tuple
        ``(bands, frames, channels)``, e.g. ``(128, 188, 1)``.
    num_classes : int
    width : int
        Model dimension d_model; must be divisible by ``heads``.
    depth : int
        Number of encoder blocks.
    heads : int
        Attention heads per block.
    ff_multiplier : int
        The feed-forward layer has ``ff_multiplier * width`` units.
    frame_stride : int
        Frames merged into one token.
    dropout : float
    """
    shape = check_input_shape(input_shape, "transformer")
    num_classes = check_num_classes(num_classes)
    width, depth, heads = (check_positive(n, v) for n, v in (("width", width), ("depth", depth), ("heads", heads)))
    ff_multiplier = check_positive("ff_multiplier", ff_multiplier)
    frame_stride = check_positive("frame_stride", frame_stride)
    dropout = check_fraction("dropout", dropout)
    if width % heads:
        raise ParameterError(f"transformer: width ({width}) must be divisible by heads ({heads})")

    inputs = keras.Input(shape=shape, name="log_mel")
    x = frames_as_sequence(inputs, shape)
    x = layers.Conv1D(width, frame_stride, strides=frame_stride, padding="same", name="frame_embedding")(x)
    x = SinusoidalPositions(name="positions")(x)
    x = layers.Dropout(dropout, name="embedding_dropout")(x)
    for index in range(1, depth + 1):
        x = encoder_block(x, width, heads, ff_multiplier * width, dropout, index)
    x = layers.LayerNormalization(epsilon=1e-6, name="final_norm")(x)
    x = layers.GlobalAveragePooling1D(name="token_mean")(x)
    x = layers.Dropout(dropout, name="head_dropout")(x)
    outputs = softmax_output(x, num_classes)
    return keras.Model(inputs, outputs, name="transformer")
