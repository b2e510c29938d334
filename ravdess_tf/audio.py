"""Audio in: reading any file as mono 16 kHz samples, and bringing a clip to the level and length a
model reads.

A leaf of the package (NumPy, soundfile, soxr): features, Whisper, inference and the robustness
protocol all read audio through it.
"""

from __future__ import annotations

import os

import numpy as np
import soundfile
import soxr

from .exceptions import AudioError

#: dBFS, the speech level every clip is brought to unless a configuration says otherwise.
DEFAULT_LEVEL_DBFS = -25.0


def _read_mono(path, sr: int, num_samples: int | None = None, position: float = 0.5) -> np.ndarray:
    """Decode a clip (or only the ``num_samples`` at ``sr`` that :func:`fix_length` keeps), downmix, resample."""
    try:
        with soundfile.SoundFile(path) as stream:
            native_sr = stream.samplerate
            start, frames = 0, -1
            if num_samples is not None:
                start, frames = _window(stream.frames, native_sr, sr, num_samples, position)
                stream.seek(start)
            # libsndfile's int-to-float conversion is slow; NumPy's is 2.5x faster
            # and gives the same values (int16 / 32768).
            if stream.subtype == "PCM_16":
                audio = stream.read(frames, dtype="int16", always_2d=True).astype(np.float32)
                audio *= 1.0 / 32768.0
            else:
                audio = stream.read(frames, dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, OSError, TypeError) as error:
        raise AudioError(f"Cannot read audio file {str(path)!r}: {error}") from error
    if audio.size == 0:
        raise AudioError(f"Audio file {str(path)!r} holds no samples")
    mono = audio.mean(axis=1) if audio.shape[1] > 1 else audio[:, 0]
    if native_sr != sr:
        mono = soxr.resample(mono, native_sr, sr, quality="HQ")
    mono = np.ascontiguousarray(mono, dtype=np.float32)
    if not np.isfinite(mono).all():
        raise AudioError(f"Audio file {str(path)!r} holds non-finite samples (NaN or inf)")
    if num_samples is not None:
        if frames != -1:  # a window was decoded: drop its leading margin
            margin = _margin_samples(sr)
            mono = mono[margin:margin + num_samples]
        mono = fix_length(mono, num_samples, position)
    return mono


def load_audio(path: str | os.PathLike, sr: int = 16_000) -> np.ndarray:
    """Read an audio file as mono float32 at ``sr`` Hz.

    Parameters
    ----------
    path : str or path-like
        Any format libsndfile reads (WAV, FLAC, OGG, ...), any sample rate,
        any number of channels (they are averaged).
    sr : int
        Target sample rate in Hz; soxr's high-quality resampler converts.

    Returns
    -------
    numpy.ndarray
        Shape ``(samples,)``, float32, values finite.

    Raises
    ------
    AudioError
        If the file cannot be read, is empty or holds non-finite samples.
    """
    return _read_mono(path, sr)


#: Seconds decoded on each side of a centred window, so that the resampler's
#: edge transient falls outside the samples that are kept.
_RESAMPLE_MARGIN = 0.01


def _margin_samples(sr: int) -> int:
    return int(_RESAMPLE_MARGIN * sr)


def _window(native_frames: int, native_sr: int, sr: int, num_samples: int, position: float) -> tuple[int, int]:
    """First native frame and frame count to decode for :func:`fix_length`'s window, or (0, -1) for all
    (a short clip, or a window too near an end to leave room for the margins)."""
    ratio = native_sr / sr
    length = int(np.floor(native_frames / ratio + 0.5))  # what soxr makes of the whole clip
    margin = _margin_samples(sr)
    first = int(position * (length - num_samples)) - margin  # fix_length's crop, less the margin
    if length <= num_samples + 2 * margin or first < 0 or first + num_samples + 2 * margin > length:
        return 0, -1
    return int(round(first * ratio)), int(round((num_samples + 2 * margin) * ratio))


def load_centred(path: str | os.PathLike, sr: int, num_samples: int, position: float = 0.5) -> np.ndarray:
    """The centred ``num_samples`` of a clip at ``sr`` Hz (or those at ``position``), decoding only that part.

    Equal (to resampler precision) to ``fix_length(load_audio(path, sr),
    num_samples, position)``, but it decodes and resamples about 3 s of a 3.7 s clip
    instead of all of it: decoding is the largest cost of feature extraction.
    """
    return _read_mono(path, sr, num_samples, position)


def fix_length(audio: np.ndarray, num_samples: int, position: float = 0.5) -> np.ndarray:
    """Crop or zero-pad ``audio`` (samples,) to exactly ``num_samples``.

    ``position`` says where the window sits in a longer clip, as a fraction of the samples left
    over: 0 keeps the start, 0.5 (the default) the centre, 1 the end. A shorter clip is padded
    equally on both sides.
    """
    excess = len(audio) - num_samples
    if excess >= 0:
        start = int(position * excess)
        return audio[start:start + num_samples]
    before = -excess // 2
    return np.pad(audio, (before, -excess - before))


#: Seconds per frame of the level measurement: 25 ms, a speech frame.
LEVEL_FRAME_SECONDS = 0.025
#: Frames within this many dB of the loud frames (95th percentile) are active speech: ITU-T P.56's
#: margin. Over 120 RAVDESS clips (scripts/level_options.py) the level so measured moved by 0.2 dB
#: (median) when 1 s of silence was added at each end and by 0.1 dB under white noise 20 dB below the
#: speech; a 30 dB margin let the noise in (3.2 dB), the whole clip's RMS moved with the silence (1.9 dB).
ACTIVE_RANGE_DB = 15.9
#: Percentile of the frame levels that stands for a clip's loud frames: not the loudest, which a click can set.
LOUD_PERCENTILE = 95
#: A clip whose loud frames stay below this level (dBFS) has no level to measure: 16-bit
#: quantisation noise sits near -101 dBFS, RAVDESS's quietest speech near -54.
SILENCE_DBFS = -90.0


def frame_levels(audio: np.ndarray, sr: int) -> np.ndarray:
    """RMS level of each 25 ms frame of ``audio`` (samples,), in dBFS (1.0 full scale).

    Returns
    -------
    numpy.ndarray
        Shape ``(frames,)``, at least -120 dBFS; one frame for a clip shorter than a frame.
    """
    audio = np.asarray(audio, np.float64)
    length = max(1, int(LEVEL_FRAME_SECONDS * sr))
    if len(audio) < length:
        frames = audio[None] if len(audio) else np.zeros((1, 1))
    else:
        frames = audio[:len(audio) // length * length].reshape(-1, length)
    return 10 * np.log10(np.maximum((frames ** 2).mean(axis=1), 1e-12))


def loud_level(audio: np.ndarray, sr: int) -> float:
    """The level of a clip's loud frames, in dBFS: the :data:`LOUD_PERCENTILE` of :func:`frame_levels`."""
    return float(np.percentile(frame_levels(audio, sr), LOUD_PERCENTILE))


def speech_level(audio: np.ndarray, sr: int) -> float:
    """RMS level of the active speech of a clip, in dBFS; ``-inf`` if it holds no speech.

    Active frames are those within :data:`ACTIVE_RANGE_DB` of the clip's loud
    frames (:func:`loud_level`). Unlike the RMS of the whole clip it does not
    depend on how much silence surrounds the speech; unlike the peak it does
    not depend on one sample. A clip whose loud frames stay under
    :data:`SILENCE_DBFS` (digital silence) has no level.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(16000) / 16000
    >>> tone = 0.1 * np.sin(2 * np.pi * 200 * t) * (t < 0.5)   # 0.5 s of tone, then silence
    >>> round(speech_level(tone, 16000), 1)                     # 0.1 / sqrt(2) is -23.0 dBFS
    -23.0
    >>> speech_level(np.zeros(16000), 16000)
    -inf
    """
    levels = frame_levels(audio, sr)
    loud = np.percentile(levels, LOUD_PERCENTILE)
    if loud < SILENCE_DBFS:
        return float("-inf")
    active = levels[levels >= loud - ACTIVE_RANGE_DB]
    return float(10 * np.log10(np.mean(10 ** (active / 10))))


def normalize_level(audio: np.ndarray, sr: int, target_dbfs: float = DEFAULT_LEVEL_DBFS) -> np.ndarray:
    """Scale ``audio`` so that its active speech (:func:`speech_level`) is at ``target_dbfs``.

    A clip without speech is returned unchanged: there is no level to set.

    Returns
    -------
    numpy.ndarray
        float32, the shape of ``audio``. Samples may exceed 1.0: features are
        computed in floating point and nothing is written back as 16-bit audio.
    """
    level = speech_level(audio, sr)
    if not np.isfinite(level):
        return np.asarray(audio, np.float32)
    return (np.asarray(audio, np.float32) * np.float32(10 ** ((target_dbfs - level) / 20))).astype(np.float32)


# --------------------------------------------------------------------------
# A clip as a feature configuration reads it
# --------------------------------------------------------------------------

def prepare_clip(audio: np.ndarray, config) -> np.ndarray:
    """What every front-end is given: ``audio`` (mono at ``sample_rate``) trimmed if asked,
    cropped to ``duration`` (centred, or at ``crop_position``) and brought to ``level_dbfs``.

    The level is measured on the window, the part the model sees.

    Returns
    -------
    numpy.ndarray
        Shape ``(config.num_samples,)``, float32.
    """
    if config.trim_silence:
        import librosa

        audio, _ = librosa.effects.trim(audio, top_db=config.trim_top_db)
    audio = fix_length(np.asarray(audio, np.float32), config.num_samples, config.crop_position)
    if config.level_dbfs is not None:
        audio = normalize_level(audio, config.sample_rate, config.level_dbfs)
    return audio


def load_clip(path: str | os.PathLike, config) -> np.ndarray:
    """The clip as ``config`` sees it: :func:`prepare_clip` of the file's audio.

    Returns
    -------
    numpy.ndarray
        Shape ``(config.num_samples,)``, float32.
    """
    return prepare_clip(read_clip(path, config), config)


def read_clip(path: str | os.PathLike, config) -> np.ndarray:
    """The samples ``config`` reads of a file before :func:`prepare_clip`: the whole file when it trims
    silence (silence is found on the whole clip), else only its window (:func:`load_centred`)."""
    if config.trim_silence:
        return load_audio(path, config.sample_rate)
    return load_centred(path, config.sample_rate, config.num_samples, config.crop_position)
