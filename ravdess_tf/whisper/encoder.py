"""Whisper's audio encoder in Keras: two 1-D convolutions, fixed sinusoidal positions, pre-norm
self-attention blocks; weights copied from a CTranslate2 checkpoint.

Importing this module imports Keras; :mod:`ravdess_tf.whisper` loads it only when an encoder is built.
"""

from __future__ import annotations

import os

import keras
import numpy as np
from keras import layers

from ..exceptions import ParameterError
from .checkpoint import _model_name_of, locate_model, read_ctranslate2
from .spec import MAX_FRAMES, WHISPER_MODELS, WhisperSpec, whisper_spec


@keras.saving.register_keras_serializable(package="ravdess_tf")
class WhisperPositions(keras.layers.Layer):
    """Adds Whisper's fixed sinusoidal position table (its first ``frames`` rows).

    The table is a weight, set from the checkpoint, not recomputed:
    Whisper's sinusoids differ in detail from the textbook ones.
    """

    def __init__(self, max_frames: int = MAX_FRAMES, **kwargs):
        super().__init__(**kwargs)
        self.max_frames = max_frames

    def build(self, input_shape):
        self.encodings = self.add_weight(shape=(self.max_frames, input_shape[-1]), initializer="zeros",
                                         trainable=False, name="encodings")

    def call(self, inputs):
        frames = keras.ops.shape(inputs)[1]
        return inputs + keras.ops.cast(self.encodings[:frames], inputs.dtype)

    def compute_output_shape(self, input_shape):
        # Stated, not traced: with a variable frame count the symbolic trace
        # would slice the table to an unknown length (JAX rejects it).
        return input_shape

    def get_config(self):
        return {**super().get_config(), "max_frames": self.max_frames}


def build_whisper_encoder(model: str | WhisperSpec = "base", num_frames: int | None = None):
    """Whisper's audio encoder as a Keras functional model (random weights).

    Input ``(batch, frames, mel_bins)`` log-mel; outputs a list of
    ``layers + 1`` hidden states, each ``(batch, ceil(frames / 2), width)``:
    index 0 is the convolutional stem plus positions, index k the output of
    block k, and the last one passes through the final layer normalisation
    (what Whisper's decoder and ``ctranslate2.models.Whisper.encode`` see).
    Set the weights with :func:`load_encoder_weights`.
    """
    spec = model if isinstance(model, WhisperSpec) else whisper_spec(model)
    head_size = spec.width // spec.heads
    inputs = keras.Input(shape=(num_frames, spec.mel_bins), name="log_mel")
    # PyTorch-style padding of 1 on both sides: Keras' "same" pads a stride-2
    # convolution on the right only, which shifts every output frame.
    x = layers.ZeroPadding1D(1, name="conv1_pad")(inputs)
    x = layers.Conv1D(spec.width, 3, activation="gelu", name="conv1")(x)
    x = layers.ZeroPadding1D(1, name="conv2_pad")(x)
    x = layers.Conv1D(spec.width, 3, strides=2, activation="gelu", name="conv2")(x)
    x = WhisperPositions(name="positions")(x)
    hidden_states = [x]
    for index in range(spec.layers):
        name = f"layer_{index}"
        attended = layers.LayerNormalization(epsilon=1e-5, name=f"{name}_attention_norm")(x)
        attended = layers.MultiHeadAttention(spec.heads, head_size, name=f"{name}_attention")(attended, attended)
        x = layers.Add(name=f"{name}_attention_residual")([x, attended])
        transformed = layers.LayerNormalization(epsilon=1e-5, name=f"{name}_ffn_norm")(x)
        transformed = layers.Dense(4 * spec.width, activation="gelu", name=f"{name}_ffn_expand")(transformed)
        transformed = layers.Dense(spec.width, name=f"{name}_ffn_project")(transformed)
        x = layers.Add(name=f"{name}_ffn_residual")([x, transformed])
        hidden_states.append(x)
    hidden_states[-1] = layers.LayerNormalization(epsilon=1e-5, name="final_norm")(x)
    return keras.Model(inputs, hidden_states, name=f"whisper_{model if isinstance(model, str) else 'custom'}_encoder")


def load_encoder_weights(encoder, tensors: dict[str, np.ndarray]) -> None:
    """Copy CTranslate2 tensors (``encoder/...``, from :func:`read_ctranslate2`) into ``encoder``.

    CTranslate2 stores dense kernels as ``(out, in)`` and fuses the query,
    key and value projections into one ``(3 * width, width)`` matrix.
    """
    def get(name):
        key = f"encoder/{name}"
        if key not in tensors:
            raise ParameterError(f"The checkpoint has no tensor {key!r}: is it a Whisper model?")
        return tensors[key]

    def conv(name):
        return [get(f"{name}/weight").transpose(2, 1, 0), get(f"{name}/bias")]  # (out,in,k) -> (k,in,out)

    def norm(name):
        return [get(f"{name}/gamma"), get(f"{name}/beta")]

    def dense(name):
        return [get(f"{name}/weight").T, get(f"{name}/bias")]

    encoder.get_layer("conv1").set_weights(conv("conv1"))
    encoder.get_layer("conv2").set_weights(conv("conv2"))
    encoder.get_layer("positions").set_weights([get("position_encodings/encodings")])
    encoder.get_layer("final_norm").set_weights(norm("layer_norm"))
    width = encoder.get_layer("conv2").filters
    index = 0
    while f"encoder/layer_{index}/ffn/linear_0/weight" in tensors:
        prefix, name = f"layer_{index}", f"layer_{index}"
        attention = encoder.get_layer(f"{name}_attention")
        heads, head_size = attention.num_heads, attention.key_dim
        fused_weight = get(f"{prefix}/self_attention/linear_0/weight")
        fused_bias = get(f"{prefix}/self_attention/linear_0/bias")
        projections = []
        for part in range(3):  # query, key, value
            rows = slice(part * width, (part + 1) * width)
            projections += [fused_weight[rows].T.reshape(width, heads, head_size),
                            fused_bias[rows].reshape(heads, head_size)]
        output_weight, output_bias = dense(f"{prefix}/self_attention/linear_1")
        attention.set_weights([*projections, output_weight.reshape(heads, head_size, width), output_bias])
        encoder.get_layer(f"{name}_attention_norm").set_weights(norm(f"{prefix}/self_attention/layer_norm"))
        encoder.get_layer(f"{name}_ffn_norm").set_weights(norm(f"{prefix}/ffn/layer_norm"))
        encoder.get_layer(f"{name}_ffn_expand").set_weights(dense(f"{prefix}/ffn/linear_0"))
        encoder.get_layer(f"{name}_ffn_project").set_weights(dense(f"{prefix}/ffn/linear_1"))
        index += 1
    expected = len(encoder.outputs) - 1
    if index != expected:
        raise ParameterError(f"The checkpoint has {index} encoder layers; this encoder has {expected}.")


def load_whisper_encoder(model: str | os.PathLike = "base", *, cache_dir=None, download: bool = True,
                         trainable: bool = False):
    """A Keras Whisper encoder with the checkpoint's weights, frozen unless ``trainable``."""
    folder = locate_model(model, cache_dir=cache_dir, download=download)
    name = model if model in WHISPER_MODELS else _model_name_of(folder)
    encoder = build_whisper_encoder(name)
    load_encoder_weights(encoder, read_ctranslate2(folder / "model.bin", prefix="encoder/"))
    encoder.trainable = trainable
    return encoder
