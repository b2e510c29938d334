"""The study's seven architectures and a head for pretrained embeddings, one builder each, one registry.

Every builder has the signature ``build_<name>(input_shape, num_classes, **options)``
and returns a Functional ``keras.Model`` whose last layer, ``predictions``, is a
softmax. Keras is imported only when a model is built.
"""

from __future__ import annotations

import importlib
import inspect

from ..exceptions import ParameterError

#: The study's architectures, in its order (section 2.4), and the module of each builder.
_BUILDER_MODULES = {
    "alexnet": "alexnet",
    "resnet50": "applications",
    "inception_v3": "applications",
    "vgg16": "applications",
    "vgg19": "applications",
    "lstm": "lstm",
    "transformer": "transformer",
}
MODEL_NAMES = tuple(_BUILDER_MODULES)
#: Heads for pretrained frame embeddings (``FeatureConfig(kind="whisper")``); not in the study.
_HEAD_MODULES = {"pooled": "pooled"}
HEAD_NAMES = tuple(_HEAD_MODULES)
#: Everything :func:`build_model` builds.
ALL_MODELS = MODEL_NAMES + HEAD_NAMES
#: Classical baselines: fitted by scikit-learn (:mod:`ravdess_tf.training.baseline`), not built by Keras.
BASELINE_NAMES = ("svm",)
#: Everything a run can train: the Keras models and the baselines.
TRAINABLE_MODELS = ALL_MODELS + BASELINE_NAMES
_ALL_MODULES = {**_BUILDER_MODULES, **_HEAD_MODULES}


def check_trainable(name: str) -> None:
    """Raise :class:`ParameterError` naming the valid models unless a run can train ``name``."""
    if name not in TRAINABLE_MODELS:
        raise ParameterError(f"Unknown model {name!r}; valid names: {', '.join(TRAINABLE_MODELS)}")


#: Modules that define custom Keras layers; they must be imported before a saved model loads.
_CUSTOM_LAYER_MODULES = ("applications", "transformer", "pooled")


def register_custom_layers() -> None:
    """Import the modules whose layers saved models refer to, so ``keras.models.load_model`` finds them."""
    for module in _CUSTOM_LAYER_MODULES:
        importlib.import_module(f"{__name__}.{module}")


def get_builder(name: str):
    """The ``build_<name>`` function of a registered model."""
    if name not in _ALL_MODULES:
        raise ParameterError(f"Unknown model {name!r}; valid names: {', '.join(ALL_MODELS)}")
    module = importlib.import_module(f"{__name__}.{_ALL_MODULES[name]}")
    return getattr(module, f"build_{name}")


def model_options(name: str) -> tuple[str, ...]:
    """The keyword options ``build_model(name, ...)`` accepts."""
    parameters = inspect.signature(get_builder(name)).parameters.values()
    return tuple(p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY)


def build_model(name: str, input_shape, num_classes: int = 8, **options):
    """Build one of :data:`MODEL_NAMES` or :data:`HEAD_NAMES`.

    Parameters
    ----------
    name : str
        One of ``alexnet, resnet50, inception_v3, vgg16, vgg19, lstm, transformer``, or ``pooled``.
    input_shape : tuple
        ``(bands, frames, channels)``, e.g. ``(128, 188, 1)`` for the default log-mel features.
    num_classes : int
        8 for RAVDESS.
    **options
        The builder's size and regularisation options (see each ``build_<name>``).

    Returns
    -------
    keras.Model
    """
    builder = get_builder(name)
    unknown = sorted(set(options) - set(model_options(name)))
    if unknown:
        raise ParameterError(
            f"{name} has no option {', '.join(map(repr, unknown))}; its options are: "
            f"{', '.join(model_options(name))}")
    return builder(input_shape, num_classes, **options)
