import keras
import numpy as np
import pytest

import ravdess_tf
from ravdess_tf.exceptions import ParameterError
from ravdess_tf.models import ALL_MODELS, HEAD_NAMES, MODEL_NAMES, model_options

#: A small input and a small variant of every architecture, so each test takes seconds.
SMALL = {
    "alexnet": ((32, 40, 1), {"width": 0.125, "dense_units": 256}),
    "resnet50": ((32, 40, 1), {"stages": 1}),
    "inception_v3": ((75, 75, 1), {"stages": 1}),
    "vgg16": ((32, 40, 1), {"stages": 2}),
    "vgg19": ((32, 40, 1), {"stages": 2, "batch_norm": True}),
    "lstm": ((16, 20, 1), {"units": 16, "depth": 1}),
    "transformer": ((16, 20, 1), {"width": 32, "depth": 1, "heads": 2}),
    "pooled": ((16, 20, 1), {"pooling": "attention", "hidden_units": 8}),
}


def test_registry_lists_the_studys_models():
    assert MODEL_NAMES == ("alexnet", "resnet50", "inception_v3", "vgg16", "vgg19", "lstm", "transformer")
    assert HEAD_NAMES == ("pooled",)
    assert set(SMALL) == set(ALL_MODELS)


def _batch(shape, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(4, *shape)).astype("float32")
    y = np.array([0, 3, 5, 7])
    return x, y


@pytest.mark.parametrize("name", ALL_MODELS)
def test_model_predicts_trains_and_round_trips(name, tmp_path):
    keras.utils.set_random_seed(0)
    shape, options = SMALL[name]
    model = ravdess_tf.build_model(name, shape, 8, **options)
    assert model.get_layer("predictions").activation.__name__ == "softmax"
    x, y = _batch(shape)
    probabilities = model.predict(x[:2], verbose=0)
    assert probabilities.shape == (2, 8)
    assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)

    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    before = float(model.test_on_batch(x, y))
    for _ in range(30):  # at momentum 0.9 the moving statistics of a deep BN stack follow within about 30 steps
        model.train_on_batch(x, y)
    after = float(model.test_on_batch(x, y))  # inference mode: BN statistics must have followed
    assert after < before

    path = tmp_path / f"{name}.keras"
    model.save(path)
    restored = keras.models.load_model(path)
    assert np.allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5)


def test_unknown_model_lists_valid_names():
    with pytest.raises(ParameterError, match="Unknown model 'vgg17'; valid names: alexnet, resnet50"):
        ravdess_tf.build_model("vgg17", (128, 188, 1))


@pytest.mark.parametrize("name, shape, message", [
    ("inception_v3", (64, 188, 1), "inception_v3 needs an input of at least 75x75"),
    ("resnet50", (16, 188, 1), "resnet50 needs an input of at least 32x32"),
    ("vgg16", (128, 20, 1), "vgg16 needs an input of at least 32x32"),
    ("alexnet", (128, 188), "input_shape must be three positive sizes"),
    ("lstm", "big", "input_shape must be"),
    ("pooled", (512,), "input_shape must be"),
])
def test_input_shape_errors(name, shape, message):
    with pytest.raises(ParameterError, match=message):
        ravdess_tf.build_model(name, shape)


@pytest.mark.parametrize("name, options, message", [
    ("alexnet", {"depth": 3}, "alexnet has no option 'depth'; its options are: width, dense_units, dropout"),
    ("alexnet", {"dropout": 1.5}, "dropout must be in \\[0, 1\\)"),
    ("alexnet", {"width": 0}, "width must be a number in \\(0, 4\\]"),
    ("vgg16", {"stages": 6}, "vgg16: stages must be an integer in 1..5"),
    ("vgg19", {"weights": "imagenette"}, "weights must be None"),
    ("vgg16", {"batch_norm": True, "weights": "imagenet"}, "ImageNet weights do not have"),
    ("transformer", {"width": 30, "heads": 4}, "width \\(30\\) must be divisible by heads \\(4\\)"),
    ("pooled", {"pooling": "max"}, "pooling must be one of"),
    ("pooled", {"hidden_units": -1}, "hidden_units must be a non-negative integer"),
    ("lstm", {"units": 0}, "units must be a positive integer"),
])
def test_bad_options(name, options, message):
    shape = SMALL[name][0]
    with pytest.raises(ParameterError, match=message):
        ravdess_tf.build_model(name, shape, **options)
    assert set(options) <= set(model_options(name)) or "has no option" in message


def test_vgg_batch_norm_normalises_every_convolution():
    """VGG-BN: the same convolutions and stage ends as VGG, each convolution followed by batch normalisation."""
    plain = ravdess_tf.build_model("vgg19", (32, 40, 1), stages=3)
    normalised = ravdess_tf.build_model("vgg19", (32, 40, 1), stages=3, batch_norm=True)
    convolutions = [layer.name for layer in plain.layers if isinstance(layer, keras.layers.Conv2D)]
    assert convolutions == [layer.name for layer in normalised.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(convolutions) == 8  # 2 + 2 + 4
    assert [f"{name}_bn" for name in convolutions] == [
        layer.name for layer in normalised.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert normalised.get_layer("block3_pool").output.shape == plain.get_layer("block3_pool").output.shape
    assert normalised.get_layer("block1_conv1_bn").momentum == 0.9
    # Each convolution loses its bias and gains four vectors of its width (scale, offset, moving mean and variance).
    widths = sum(plain.get_layer(name).filters for name in convolutions)
    assert normalised.count_params() == plain.count_params() + 3 * widths


def test_num_classes_checked():
    with pytest.raises(ParameterError, match="num_classes must be an integer of at least 2"):
        ravdess_tf.build_model("lstm", (16, 20, 1), num_classes=1)


def test_imagenet_scaling_layer():
    from ravdess_tf.models.applications import ImageNetScaling

    x = np.zeros((1, 2, 2, 3), "float32")
    assert np.allclose(keras.ops.convert_to_numpy(ImageNetScaling("tf")(x)), 0.0)
    caffe = keras.ops.convert_to_numpy(ImageNetScaling("caffe")(x))
    assert np.allclose(caffe[0, 0, 0], 127.5 - np.array(ImageNetScaling.CAFFE_MEANS_BGR), atol=1e-4)
    with pytest.raises(ParameterError, match="mode must be 'caffe' or 'tf'"):
        ImageNetScaling("torch")


def test_pooled_stats_head_is_mean_and_std_over_frames():
    """With uniform weights the pooled vector is each feature's mean and standard deviation over frames."""
    model = ravdess_tf.build_model("pooled", (6, 10, 1), 8)
    x, _ = _batch((6, 10, 1))
    pooled = keras.Model(model.input, model.get_layer("pooled").output).predict(x, verbose=0)
    frames = x[..., 0]  # (batch, features, frames)
    expected = np.concatenate([frames.mean(axis=2), np.sqrt(frames.var(axis=2) + 1e-6)], axis=1)
    np.testing.assert_allclose(pooled, expected, atol=1e-5)
