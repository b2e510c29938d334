"""AlexNet (Krizhevsky et al., 2012), written by hand for log-mel spectrograms."""

from __future__ import annotations

import keras
from keras import layers

from .common import (BN_MOMENTUM, check_fraction, check_input_shape, check_num_classes, check_positive,
                     check_width, softmax_output)

#: Filters and kernel sizes of AlexNet's five convolutional layers.
ALEXNET_FILTERS = (96, 256, 384, 384, 256)
ALEXNET_KERNELS = (11, 5, 3, 3, 3)
#: Units of the two hidden fully connected layers in the original.
ALEXNET_DENSE_UNITS = 4096


def build_alexnet(
    input_shape,
    num_classes: int = 8,
    *,
    width: float = 1.0,
    dense_units: int = ALEXNET_DENSE_UNITS,
    dropout: float = 0.5,
) -> keras.Model:
    """AlexNet: five convolutional and three fully connected layers.

    Adapted from the ImageNet network to a ``(bands, frames, 1)`` log-mel input:

    - **stride**: the first convolution (11x11) strides by 2, not 4. A 128 x 188
      spectrogram is far smaller than a 224 x 224 photograph, and a stride of 4
      would skip over pitch harmonics that are only a few mel bands apart.
    - **normalisation**: BatchNormalization (momentum 0.9) after each
      convolution replaces local response normalisation, which later work
      found to add nothing; it also lets the network train from scratch on
      960 clips.
    - **pooling**: 3x3 max-pooling with stride 2 after convolutions 1, 2 and 5,
      as in the original; then global average pooling instead of flattening,
      so the first fully connected layer has 256 x 4096 weights rather than
      ~70 million, and clips of any length fit.
    - **head**: two hidden fully connected layers of ``dense_units`` (4096 as in
      the original) with dropout 0.5, then an 8-way softmax instead of 1000.

    Parameters
    ----------
    input_shape : tuple
        ``(bands, frames, channels)``, e.g. ``(128, 188, 1)``; at least 32 x 32.
    num_classes : int
    width : float
        Multiplies every layer's filters and units (0.25 for a CPU-sized variant).
    dense_units : int
        Units of the two hidden fully connected layers before ``width``.
    dropout : float
        Dropout before each fully connected layer.
    """
    shape = check_input_shape(input_shape, "alexnet", min_size=(32, 32))
    num_classes = check_num_classes(num_classes)
    dropout = check_fraction("dropout", dropout)
    dense_units = check_positive("dense_units", dense_units)
    width = check_width(width)

    inputs = keras.Input(shape=shape, name="log_mel")
    x = inputs
    for index, (filters, kernel) in enumerate(zip(ALEXNET_FILTERS, ALEXNET_KERNELS), start=1):
        x = layers.Conv2D(max(8, int(filters * width)), kernel, strides=2 if index == 1 else 1,
                          padding="same", use_bias=False, name=f"conv{index}")(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"conv{index}_bn")(x)
        x = layers.Activation("relu", name=f"conv{index}_relu")(x)
        if index in (1, 2, 5):
            x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"pool{index}")(x)
    x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    for index in (6, 7):  # AlexNet numbers its fully connected layers fc6, fc7, fc8
        x = layers.Dropout(dropout, name=f"fc{index}_dropout")(x)
        x = layers.Dense(max(8, int(dense_units * width)), activation="relu", name=f"fc{index}")(x)
    x = layers.Dropout(dropout, name="fc8_dropout")(x)
    outputs = softmax_output(x, num_classes)
    return keras.Model(inputs, outputs, name="alexnet")

