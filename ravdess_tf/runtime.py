"""The bundled kinds of model in NumPy: an answer without starting a Keras backend.

Starting TensorFlow takes about 6.5 s on a 2-core CPU, most of a cold
``ravdess-tf predict``, while the models that answer are small: a transformer
on log-mel spectrograms, and a linear head on Whisper-base's hidden states.
Here both run in NumPy from the same files: the weights of ``best.keras``
read with h5py, Whisper's from its CTranslate2 checkpoint. ``best.keras``
stays the source of truth: the tests check that these functions give Keras'
probabilities, and :func:`supports` sends any other model to Keras.

Layers follow Keras' definitions: ``LayerNormalization`` over the last axis,
``MultiHeadAttention`` with per-head query, key and value projections, exact
(erf) GELU.
"""

from __future__ import annotations

import io
import json
import re
import threading
import zipfile
from pathlib import Path

import numpy as np
import scipy.special
from threadpoolctl import ThreadpoolController

#: Model names (the ``name`` of the Keras model) that run here.
SUPPORTED = ("transformer", "pooled")


def _snake_case(name: str) -> str:
    """Keras' name for a layer class in a weights file (``MultiHeadAttention`` -> ``multi_head_attention``)."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def read_keras_file(path: str | Path) -> tuple[dict, dict]:
    """The architecture and the weights of a ``.keras`` file, without Keras.

    Returns
    -------
    config : dict
        The model's ``config.json`` (class, name, layers).
    weights : dict
        Layer name -> its weights in Keras' order (``kernel, bias``;
        ``gamma, beta``); a ``MultiHeadAttention`` layer maps to a dict of
        ``query``, ``key``, ``value`` and ``output`` pairs.
    """
    import h5py

    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
        store = h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r")
    # The weights file names layers by class and order of creation (dense, dense_1, ...).
    seen: dict[str, int] = {}
    weights = {}
    with store:
        for layer in config["config"]["layers"]:
            key = _snake_case(layer["class_name"])
            count = seen.get(key, 0)
            seen[key] = count + 1
            group = store["layers"].get(key if count == 0 else f"{key}_{count}")
            if group is None:
                continue
            if layer["class_name"] == "MultiHeadAttention":
                weights[layer["config"]["name"]] = {
                    part: [group[f"{part}_dense/vars/{i}"][()] for i in range(2)]
                    for part in ("query", "key", "value", "output")}
            elif "vars" in group and len(group["vars"]):
                weights[layer["config"]["name"]] = [group[f"vars/{i}"][()] for i in range(len(group["vars"]))]
    return config, weights


def read_keras_config(path: str | Path) -> dict:
    """The model config of a ``.keras`` file (its architecture), without Keras or the weights."""
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("config.json"))


def supports(config: dict) -> bool:
    """Whether :class:`NumpyModel` runs this Keras model config (else Keras must)."""
    name = config["config"].get("name")
    layers = {layer["config"]["name"] for layer in config["config"]["layers"]}
    if name == "pooled":  # the linear head on mean+std statistics only
        return "uniform_weights" in layers and "hidden" not in layers
    return name == "transformer"


def layer_norm(x, gamma, beta, epsilon):
    mean = x.mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(x.var(axis=-1, keepdims=True) + epsilon) * gamma + beta


def normalise_frames(hidden: np.ndarray, epsilon: float = 1e-5) -> np.ndarray:
    """Layer normalisation of each frame without scale or shift, over the last axis."""
    mean = hidden.mean(axis=-1, keepdims=True)
    variance = hidden.var(axis=-1, keepdims=True)
    return (hidden - mean) / np.sqrt(variance + epsilon)


def gelu(x):
    """Exact GELU, x * Phi(x), as Keras' and PyTorch's defaults."""
    return 0.5 * x * (1.0 + scipy.special.erf(x / np.sqrt(2.0)))


def softmax(x, axis=-1):
    x = x - x.max(axis=axis, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)


def attention(x, query, key, value, output):
    """Keras' MultiHeadAttention of ``x`` (batch, tokens, width) on itself; each argument a (kernel, bias) pair."""
    q = np.einsum("btd,dhk->bthk", x, query[0]) + query[1]
    k = np.einsum("btd,dhk->bthk", x, key[0]) + key[1]
    v = np.einsum("btd,dhk->bthk", x, value[0]) + value[1]
    scores = softmax(np.einsum("bqhk,bthk->bhqt", q / np.sqrt(q.shape[-1]), k), axis=-1)
    return np.einsum("bqhk,hkd->bqd", np.einsum("bhqt,bthk->bqhk", scores, v), output[0]) + output[1]


def sinusoidal_positions(length: int, width: int) -> np.ndarray:
    """The position code of :class:`ravdess_tf.models.transformer.SinusoidalPositions`."""
    positions = np.arange(length, dtype=np.float32)[:, None]
    rates = np.exp(np.arange(0, width, 2, dtype=np.float32) * (-np.log(10000.0) / width))
    angles = positions * rates[None, :]
    return np.stack([np.sin(angles), np.cos(angles)], axis=-1).reshape(length, -1)[:, :width]


def conv1d(x, kernel, bias, stride=1, padding="valid"):
    """Keras' Conv1D of ``x`` (batch, steps, in) with ``kernel`` (size, in, out)."""
    size = kernel.shape[0]
    if padding == "same":
        steps = -(-x.shape[1] // stride)
        total = max((steps - 1) * stride + size - x.shape[1], 0)
        x = np.pad(x, ((0, 0), (total // 2, total - total // 2), (0, 0)))
    steps = (x.shape[1] - size) // stride + 1
    windows = np.stack([x[:, i:i + stride * (steps - 1) + 1:stride] for i in range(size)], axis=2)
    return np.einsum("btki,kio->bto", windows, kernel) + bias


#: BLAS's thread count is one setting for the whole process, and a limit restores what it found on
#: exit: two predictions limiting it at once could leave it at one thread for good. They take turns.
_BLAS_LIMIT_LOCK = threading.Lock()


class NumpyModel:
    """A bundled kind of Keras model run in NumPy: ``predict(x)`` as ``keras.Model.predict``.

    Parameters
    ----------
    path : str or Path
        A ``.keras`` file whose model :func:`supports` accepts.
    blas_threads : int or None
        Threads BLAS may use for the model's products; ``None`` leaves BLAS as it is.
        Its products are small: on one thread it answered as fast as on two cores of an idle
        CPU, and 1.8-4.5 times faster beside a process that kept both busy, where the threads
        of each product wait on each other (``benchmarks/bench_runtime_threads.py``).
    """

    def __init__(self, path, blas_threads: int | None = 1):
        self.blas_threads = blas_threads
        # The loaded BLAS libraries, found once: a fresh search at every predict took 6 ms with
        # TensorFlow loaded (its libraries are many), a quarter of a clip's answer.
        self._thread_pools = ThreadpoolController()
        self.config, self.weights = read_keras_file(path)
        if not supports(self.config):
            raise ValueError(f"{path}: NumPy inference runs the transformer and the linear pooled head only")
        self.name = self.config["config"]["name"]
        self.layers = {layer["config"]["name"]: layer["config"] for layer in self.config["config"]["layers"]}

    def predict(self, x, verbose=0, batch_size=None) -> np.ndarray:
        """Class probabilities of ``x`` (batch, features, frames, 1), float32."""
        frames = np.asarray(x, np.float32)[..., 0].transpose(0, 2, 1)  # (batch, frames, features)
        with _BLAS_LIMIT_LOCK, self._thread_pools.limit(limits=self.blas_threads, user_api="blas"):
            logits_input = self._transformer(frames) if self.name == "transformer" else self._statistics(frames)
            kernel, bias = self.weights["predictions"]
            return softmax(logits_input @ kernel + bias).astype(np.float32)

    def _statistics(self, frames):
        mean = frames.mean(axis=1)
        std = np.sqrt(np.maximum((frames ** 2).mean(axis=1) - mean ** 2, 0.0) + 1e-6)
        return np.concatenate([mean, std], axis=-1)

    def _transformer(self, frames):
        w = self.weights
        stride = self.layers["frame_embedding"]["strides"][0]
        x = conv1d(frames, *w["frame_embedding"], stride=stride, padding="same")
        x = x + sinusoidal_positions(x.shape[1], x.shape[2])
        index = 1
        while f"block{index}_attention" in w:
            name = f"block{index}"
            epsilon = self.layers[f"{name}_attention_norm"]["epsilon"]
            attended = layer_norm(x, *w[f"{name}_attention_norm"], epsilon)
            x = x + attention(attended, **w[f"{name}_attention"])
            fed = layer_norm(x, *w[f"{name}_ff_norm"], epsilon)
            fed = gelu(fed @ w[f"{name}_ff_expand"][0] + w[f"{name}_ff_expand"][1])
            x = x + fed @ w[f"{name}_ff_project"][0] + w[f"{name}_ff_project"][1]
            index += 1
        x = layer_norm(x, *w["final_norm"], self.layers["final_norm"]["epsilon"])
        return x.mean(axis=1)


class NumpyWhisperEncoder:
    """Whisper's encoder in NumPy, from CTranslate2 tensors: hidden states as :class:`ravdess_tf.whisper.WhisperEmbedder` gives them.

    Parameters
    ----------
    tensors : dict
        ``encoder/...`` tensors from :func:`ravdess_tf.whisper.read_ctranslate2`.
    heads : int
        Attention heads (8 for base).

    Unlike :class:`NumpyModel` it leaves BLAS every core: its products are large enough that one
    thread was 12-22% slower on an idle 2-core CPU (``benchmarks/bench_runtime_threads.py``).
    """

    def __init__(self, tensors: dict, heads: int):
        self.t = {name.removeprefix("encoder/"): np.asarray(value, np.float32) for name, value in tensors.items()}
        self.heads = heads
        self.num_layers = sum(1 for name in self.t if name.endswith("/ffn/linear_0/weight"))

    def _conv(self, x, name, stride):
        x = np.pad(x, ((1, 1), (0, 0)))  # PyTorch's padding of 1 on both sides
        kernel = self.t[f"{name}/weight"].transpose(2, 1, 0)  # (out, in, k) -> (k, in, out)
        return gelu(conv1d(x[None], kernel, self.t[f"{name}/bias"], stride=stride)[0])

    def _norm(self, x, name):
        return layer_norm(x, self.t[f"{name}/gamma"], self.t[f"{name}/beta"], 1e-5)

    def _block(self, x, index):
        prefix = f"layer_{index}"
        width = x.shape[-1]
        head = width // self.heads
        attended = self._norm(x, f"{prefix}/self_attention/layer_norm")
        fused = attended @ self.t[f"{prefix}/self_attention/linear_0/weight"].T + self.t[f"{prefix}/self_attention/linear_0/bias"]
        q, k, v = (fused[:, i * width:(i + 1) * width].reshape(-1, self.heads, head) for i in range(3))
        scores = softmax(np.einsum("qhk,thk->hqt", q / np.sqrt(head), k), axis=-1)
        mixed = np.einsum("hqt,thk->qhk", scores, v).reshape(-1, width)
        x = x + mixed @ self.t[f"{prefix}/self_attention/linear_1/weight"].T + self.t[f"{prefix}/self_attention/linear_1/bias"]
        fed = self._norm(x, f"{prefix}/ffn/layer_norm")
        fed = gelu(fed @ self.t[f"{prefix}/ffn/linear_0/weight"].T + self.t[f"{prefix}/ffn/linear_0/bias"])
        return x + fed @ self.t[f"{prefix}/ffn/linear_1/weight"].T + self.t[f"{prefix}/ffn/linear_1/bias"]

    def hidden_states(self, mel: np.ndarray, layers) -> list[np.ndarray]:
        """Hidden states ``layers`` (0 the stem ... ``num_layers`` the last) of one log-mel input (frames, bins).

        As :class:`ravdess_tf.whisper.WhisperEmbedder`: every state but the
        last is normalised per frame without scale or shift, the last passes
        through the final layer normalisation. Blocks above the highest layer
        asked for are not computed.
        """
        x = self._conv(mel, "conv1", 1)
        x = self._conv(x, "conv2", 2)
        x = x + self.t["position_encodings/encodings"][:len(x)]
        states = {0: x}
        for index in range(max(layers)):
            x = self._block(x, index)
            states[index + 1] = x
        return [self._norm(states[layer], "layer_norm") if layer == self.num_layers else normalise_frames(states[layer])
                for layer in layers]
