"""ResNet50, InceptionV3, VGG16 and VGG19 from ``keras.applications``.

Each backbone is built with ``include_top=False`` inside our own graph and
ends in a new head: global average pooling, dropout, and an 8-way softmax.

One-channel input: the standardised log-mel spectrogram is **repeated to three
channels** (a layer named ``to_rgb``) rather than mapped by a learned 1x1
convolution, so that ImageNet weights, when asked for, see the same picture
in every colour channel and nothing new has to be learned before them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

import keras
from keras import layers, ops

from ..exceptions import ParameterError
from .common import check_fraction, check_input_shape, check_num_classes, set_batchnorm_momentum, softmax_output


@keras.saving.register_keras_serializable(package="ravdess_tf")
class ImageNetScaling(layers.Layer):
    """Map a standardised spectrogram to the pixel scaling an ImageNet network expects.

    The standardised values (mean 0, std 1) are first spread over the pixel
    range, ``pixel = clip(127.5 + 42.5 x, 0, 255)`` (three standard deviations
    either side of the mean fill 0..255), then scaled as the network's own
    ``preprocess_input`` would: ``"caffe"`` (ResNet50, VGG: subtract the
    ImageNet channel means, BGR order) or ``"tf"`` (InceptionV3: to -1..1).
    """

    #: ImageNet channel means in BGR order, as keras.applications' "caffe" mode uses them.
    CAFFE_MEANS_BGR = (103.939, 116.779, 123.68)

    def __init__(self, mode: str, **kwargs):
        super().__init__(**kwargs)
        if mode not in ("caffe", "tf"):
            raise ParameterError(f"ImageNetScaling mode must be 'caffe' or 'tf', got {mode!r}")
        self.mode = mode

    def call(self, inputs):
        pixels = ops.clip(127.5 + 42.5 * inputs, 0.0, 255.0)
        if self.mode == "tf":
            return pixels / 127.5 - 1.0
        bgr = ops.flip(pixels, axis=-1)
        return bgr - ops.convert_to_tensor(self.CAFFE_MEANS_BGR, dtype=bgr.dtype)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


@dataclass(frozen=True)
class Backbone:
    """What the builder needs to know about one ``keras.applications`` network."""

    constructor: Callable
    #: Smallest input keras.applications allows (bands x frames).
    min_size: int
    #: Output layer of each stage, in order: ``stages=k`` keeps the first k.
    stage_outputs: tuple[str, ...]
    #: The network's preprocess_input mode, used with ImageNet weights.
    scaling: str


BACKBONES = {
    "resnet50": Backbone(
        keras.applications.ResNet50, 32,
        ("conv2_block3_out", "conv3_block4_out", "conv4_block6_out", "conv5_block3_out"), "caffe"),
    "inception_v3": Backbone(keras.applications.InceptionV3, 75, ("mixed2", "mixed7", "mixed10"), "tf"),
    "vgg16": Backbone(
        keras.applications.VGG16, 32,
        ("block1_pool", "block2_pool", "block3_pool", "block4_pool", "block5_pool"), "caffe"),
    "vgg19": Backbone(
        keras.applications.VGG19, 32,
        ("block1_pool", "block2_pool", "block3_pool", "block4_pool", "block5_pool"), "caffe"),
}


def _vgg_with_batch_norm(network: keras.Model, last_layer: str, x):
    """VGG's layers up to ``last_layer`` applied to ``x``, each convolution followed by batch
    normalisation before its ReLU (VGG-BN, as torchvision's ``vgg16_bn``; keras.applications has no such
    variant). Plain VGG has no normalisation: from random weights its small variants stayed at chance
    for six epochs at the learning rates tried (2e-3 and 5e-4, batches of 8 and 32; results/ablation.md)."""
    for layer in network.layers:
        if isinstance(layer, layers.Conv2D):
            x = layers.Conv2D(layer.filters, layer.kernel_size, padding=layer.padding, use_bias=False,
                              name=layer.name)(x)
            x = layers.BatchNormalization(name=f"{layer.name}_bn")(x)
            x = layers.Activation("relu", name=f"{layer.name}_relu")(x)
        elif isinstance(layer, layers.MaxPooling2D):
            x = layers.MaxPooling2D(layer.pool_size, layer.strides, name=layer.name)(x)
        if layer.name == last_layer:
            return x
    raise AssertionError(f"{network.name} has no layer {last_layer!r}")


def _build_from_backbone(name: str, input_shape, num_classes: int, weights, stages, dropout,
                         batch_norm: bool = False) -> keras.Model:
    backbone = BACKBONES[name]
    shape = check_input_shape(input_shape, name, min_size=(backbone.min_size, backbone.min_size))
    num_classes = check_num_classes(num_classes)
    dropout = check_fraction("dropout", dropout)
    if weights not in (None, "imagenet") and not (isinstance(weights, (str, os.PathLike))
                                                  and os.path.isfile(weights)):
        raise ParameterError(
            f"{name}: weights must be None (random initialisation), 'imagenet' (downloads them) "
            f"or the path of a weights file; got {weights!r}")
    if batch_norm and weights is not None:
        raise ParameterError(f"{name}: batch_norm=True adds layers that ImageNet weights do not have; "
                             "use it with weights=None")
    all_stages = len(backbone.stage_outputs)
    if stages is None:
        stages = all_stages
    if not isinstance(stages, int) or not 1 <= stages <= all_stages:
        raise ParameterError(f"{name}: stages must be an integer in 1..{all_stages} (or None for all), "
                             f"got {stages!r}")

    inputs = keras.Input(shape=shape, name="log_mel")
    x = inputs
    if shape[-1] == 1:
        x = layers.Concatenate(name="to_rgb")([x, x, x])
    elif shape[-1] != 3:
        raise ParameterError(f"{name}: input must have 1 or 3 channels, got {shape[-1]}")
    if weights is not None:
        x = ImageNetScaling(backbone.scaling, name="imagenet_scaling")(x)
    if batch_norm:
        network = backbone.constructor(include_top=False, weights=None, input_shape=shape[:-1] + (3,))
        x = _vgg_with_batch_norm(network, backbone.stage_outputs[stages - 1], x)
    else:
        network = backbone.constructor(include_top=False, weights=weights, input_tensor=x)
        x = network.get_layer(backbone.stage_outputs[stages - 1]).output
    x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    x = layers.Dropout(dropout, name="head_dropout")(x)
    outputs = softmax_output(x, num_classes)
    model = keras.Model(inputs, outputs, name=name)
    return set_batchnorm_momentum(model)


_COMMON_DOC = """
    Parameters
    ----------
    input_shape : tuple
        ``(bands, frames, channels)`` with 1 or 3 channels; at least {min}x{min}.
    num_classes : int
    weights : None, "imagenet" or path
        ``None`` (default) initialises at random and downloads nothing;
        ``"imagenet"`` downloads Keras' ImageNet weights and adds the
        network's input scaling (:class:`ImageNetScaling`).
    stages : int or None
        Keep only the first ``stages`` of the network's {n} stages (a smaller,
        faster variant); ``None`` keeps all of them, the full network.
    dropout : float
        Dropout before the softmax.

    Every BatchNormalization layer gets momentum 0.9 (see
    :data:`ravdess_tf.models.common.BN_MOMENTUM`).
"""


def build_resnet50(input_shape, num_classes: int = 8, *, weights=None, stages=None, dropout: float = 0.3):
    return _build_from_backbone("resnet50", input_shape, num_classes, weights, stages, dropout)


def build_inception_v3(input_shape, num_classes: int = 8, *, weights=None, stages=None, dropout: float = 0.3):
    return _build_from_backbone("inception_v3", input_shape, num_classes, weights, stages, dropout)


def build_vgg16(input_shape, num_classes: int = 8, *, weights=None, stages=None, dropout: float = 0.3,
                batch_norm: bool = False):
    return _build_from_backbone("vgg16", input_shape, num_classes, weights, stages, dropout, batch_norm)


def build_vgg19(input_shape, num_classes: int = 8, *, weights=None, stages=None, dropout: float = 0.3,
                batch_norm: bool = False):
    return _build_from_backbone("vgg19", input_shape, num_classes, weights, stages, dropout, batch_norm)


build_resnet50.__doc__ = "ResNet50 (He et al., 2016): residual blocks, f(x) + x.\n" + _COMMON_DOC.format(
    min=32, n=4)
build_inception_v3.__doc__ = ("InceptionV3 (Szegedy et al., 2016): parallel convolutions of several sizes.\n"
                              + _COMMON_DOC.format(min=75, n=3))
_VGG_BATCH_NORM_DOC = """
    batch_norm : bool
        Batch normalisation between every convolution and its ReLU (VGG-BN,
        torchvision's ``vgg16_bn``/``vgg19_bn``); random weights only.
        Without it VGG trains slowly from scratch (the ``full`` preset gives it
        a learning rate of 1e-4 and 40 epochs).
"""
build_vgg16.__doc__ = ("VGG16 (Simonyan & Zisserman, 2015): 13 3x3 convolutions.\n" + _COMMON_DOC.format(min=32, n=5)
                       + _VGG_BATCH_NORM_DOC)
build_vgg19.__doc__ = ("VGG19 (Simonyan & Zisserman, 2015): 16 3x3 convolutions.\n" + _COMMON_DOC.format(min=32, n=5)
                       + _VGG_BATCH_NORM_DOC)
