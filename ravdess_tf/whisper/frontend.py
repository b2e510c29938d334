"""Whisper as a front-end: its log-mel input, the hidden states of a batch of clips, the front-end that
:func:`ravdess_tf.features.extract_features` drives, and the one-clip extractor of ``predict``."""

from __future__ import annotations

import importlib.util
from dataclasses import replace
from functools import cached_property
from pathlib import Path

import numpy as np

from ..audio import prepare_clip
from ..exceptions import ParameterError, WhisperUnavailableError
from ..runtime import NumpyWhisperEncoder, normalise_frames
from .checkpoint import _model_name_of, locate_model, read_ctranslate2
from .spec import CHUNK_SAMPLES, HOP_LENGTH, INSTALL_HINT, WHISPER_MODELS, encoder_frames, whisper_spec


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
        from .encoder import load_whisper_encoder  # imports Keras

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


#: Clips encoded per call; bounded by memory only for pad_to_30s.
BATCH_CLIPS = 16


class WhisperFrontEnd:
    """Whisper through :func:`ravdess_tf.features.extract_features`' one loop (see
    :class:`~ravdess_tf.features.SpectrogramFrontEnd` for what a front-end gives the loop).

    Every layer's hidden states are computed and cached in one pass (the
    encoder computes them all anyway), one float16 file per layer: trying
    another layer later costs a file read, and the states' precision is far
    finer than float16's. The worker threads read and level the clips; the
    encoder runs on batches of :data:`BATCH_CLIPS`.
    """

    batch_size = BATCH_CLIPS
    #: The log-mel input and the encoder run in the loop, on batches: BLAS keeps its threads (and the
    #: features stay those of the Whisper path before the one loop, bit for bit).
    single_threaded_blas = False

    def __init__(self, config):
        self.config = config
        self.description = f"Whisper {config.tag}"
        model = config.whisper_model
        name = model if model in WHISPER_MODELS else _model_name_of(locate_model(model, download=False))
        layers = whisper_spec(name).layers
        if max(config.layers) > layers:
            raise ParameterError(f"This Whisper model has layers 0-{layers}, got layer={config.layer!r}")
        self.all_layers = list(range(layers + 1))
        self.parts = {layer: replace(config, layer=layer) for layer in self.all_layers}
        self.needed = list(config.layers)
        self.shapes = {layer: (whisper_spec(name).width, config.num_frames) for layer in self.all_layers}
        self.dtypes = dict.fromkeys(self.all_layers, np.float16)

    @cached_property
    def embedder(self) -> "WhisperEmbedder":
        """Loaded on the first batch: a cache hit needs no encoder."""
        return WhisperEmbedder(self.config.whisper_model, pad_to_30s=self.config.pad_to_30s)

    def per_clip(self, audio: np.ndarray) -> np.ndarray:
        return prepare_clip(audio, self.config)

    def per_batch(self, clips: list) -> dict:
        hidden = self.embedder(np.stack(clips), self.all_layers)  # (layers, batch, frames, width)
        return {layer: hidden[index].transpose(0, 2, 1) for index, layer in enumerate(self.all_layers)}

    def placeholder(self) -> np.ndarray:
        return np.zeros(self.config.num_samples, np.float32)

    def combine(self, parts: dict) -> np.ndarray:
        """Layers stacked along the feature axis: ``(clips, width * len(layers), frames)`` float32."""
        return np.concatenate([parts[layer] for layer in self.config.layers], axis=1).astype(np.float32)


class WhisperFeatureExtractor:
    """Audio -> Whisper features of one :class:`~ravdess_tf.FeatureConfig` (``kind="whisper"``).

    The counterpart of :class:`ravdess_tf.spectrogram.SpectrogramExtractor` for
    prediction: calling it on 16 kHz audio gives ``(width * layers, frames)``.
    """

    def __init__(self, config, numpy: bool = False):
        self.config = config
        if numpy:  # the encoder in NumPy (ravdess_tf.runtime): no Keras backend to start
            if config.pad_to_30s:
                raise ParameterError("the NumPy Whisper encoder reads clips as they are, not padded to 30 s")
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
        clip = prepare_clip(audio, self.config)
        if self.numpy_encoder is not None:
            states = self.numpy_encoder.hidden_states(log_mel(clip, mel_bins=self.mel_bins), self.config.layers)
            return np.concatenate([state.T for state in states], axis=0).astype(np.float32)
        states = self.embedder(clip[None], self.config.layers)  # (layers, 1, frames, width)
        return np.concatenate([state[0].T for state in states], axis=0)
