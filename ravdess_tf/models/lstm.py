"""A bidirectional LSTM over the frames of a spectrogram."""

from __future__ import annotations

import keras
from keras import layers

from .common import check_fraction, check_input_shape, check_num_classes, check_positive, softmax_output


def frames_as_sequence(inputs, shape):
    """``(bands, frames, channels)`` -> ``(frames, bands * channels)``: one vector per time step."""
    bands, frames, channels = shape
    x = layers.Permute((2, 1, 3), name="time_first")(inputs)
    return layers.Reshape((frames, bands * channels), name="frames")(x)


def build_lstm(
    input_shape,
    num_classes: int = 8,
    *,
    units: int = 128,
    depth: int = 2,
    bidirectional: bool = True,
    dropout: float = 0.3,
) -> keras.Model:
    """Stacked (bi)directional LSTM: c_t = f_t * c_{t-1} + i_t * c~_t at every frame.

    The spectrogram is read as a sequence of frames (each a vector of mel
    bands); ``depth`` LSTM layers return their whole sequence, which is pooled
    over time (mean and max, concatenated) so that every frame contributes,
    not only the last: an emotion cue in mid-sentence should not have to
    survive 100 recurrent steps. Clips have a fixed length (3 s, centred), so
    no masking is needed.

    Parameters
    ----------
    input_shape : tuple
        ``(bands, frames, channels)``, e.g. ``(128, 188, 1)``.
    num_classes : int
    units : int
        Units of each LSTM (per direction).
    depth : int
        Number of stacked LSTM layers.
    bidirectional : bool
        Read each clip forwards and backwards.
    dropout : float
        Dropout on each LSTM's inputs and before the softmax.
    """
    shape = check_input_shape(input_shape, "lstm")
    num_classes = check_num_classes(num_classes)
    units, depth = check_positive("units", units), check_positive("depth", depth)
    dropout = check_fraction("dropout", dropout)

    inputs = keras.Input(shape=shape, name="log_mel")
    x = frames_as_sequence(inputs, shape)
    for index in range(1, depth + 1):
        recurrent = layers.LSTM(units, return_sequences=True, dropout=dropout, name=f"lstm{index}")
        if bidirectional:
            recurrent = layers.Bidirectional(recurrent, name=f"bilstm{index}")
        x = recurrent(x)
    x = layers.Concatenate(name="time_pool")([
        layers.GlobalAveragePooling1D(name="time_mean")(x), layers.GlobalMaxPooling1D(name="time_max")(x)])
    x = layers.Dropout(dropout, name="head_dropout")(x)
    outputs = softmax_output(x, num_classes)
    return keras.Model(inputs, outputs, name="lstm")
