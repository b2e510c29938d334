"""Shared fixtures: synthetic RAVDESS-named audio and the real data when present."""

import importlib.util
import itertools
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile

from ravdess_tf.data import SPEECH_FOLDER


def load_module(path):
    """Import the Python file ``path`` as a module named after its stem (``scripts/`` and ``notebooks/`` are not
    packages)."""
    path = Path(path)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ravdess_names(actors=range(1, 25)):
    """Every speech clip name of the given actors (60 per actor), without suffix."""
    names = []
    for actor, emotion, intensity, statement, repetition in itertools.product(
            actors, range(1, 9), (1, 2), (1, 2), (1, 2)):
        if emotion == 1 and intensity == 2:
            continue  # neutral has no strong intensity
        names.append(f"03-01-{emotion:02d}-{intensity:02d}-{statement:02d}-{repetition:02d}-{actor:02d}")
    return names


def write_tone(path, seconds, rate=48_000, channels=1, seed=0):
    """A short harmonic tone with noise, as 16-bit WAV/FLAC, at ``rate`` Hz."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    pitch = 120 + 20 * (seed % 7)
    mono = sum(0.2 / k * np.sin(2 * np.pi * k * pitch * t) for k in range(1, 6))
    mono = mono + 0.01 * rng.standard_normal(len(t))
    audio = np.stack([mono] * channels, axis=1) if channels > 1 else mono
    soundfile.write(path, audio.astype(np.float32), rate, subtype="PCM_16")
    return Path(path)


def speech_like(seconds, rate=16_000, seed=0):
    """Syllable-like bursts of a harmonic tone (4 a second) with pauses, at about -30 dBFS."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    voiced = sum(np.sin(2 * np.pi * k * 150 * t) / k for k in range(1, 6))
    envelope = np.clip(np.sin(2 * np.pi * 4 * t), 0, None)
    return (0.05 * voiced * envelope + 0.001 * rng.standard_normal(len(t))).astype(np.float32)


#: CTranslate2's dtype ids (include/ctranslate2/types.h) of the dtypes the tests write.
CT2_DTYPE_IDS = {np.dtype(np.float32): 0, np.dtype(np.float16): 4}


def write_ctranslate2(path, tensors: dict) -> bytes:
    """``tensors`` as a CTranslate2 model.bin (binary version 6, as ``ModelSpec._serialize`` lays it out:
    version, spec name, revision, count, then each variable's name, rank, dimensions, dtype id, byte
    count and bytes; no aliases), each array in its own dtype. Returns the bytes written."""
    import struct

    def string(value):
        return struct.pack("H", len(value) + 1) + value.encode() + b"\0"

    blob = struct.pack("I", 6) + string("WhisperSpec") + struct.pack("I", 3) + struct.pack("I", len(tensors))
    for name, array in tensors.items():
        blob += string(name) + struct.pack("B", array.ndim) + b"".join(struct.pack("I", d) for d in array.shape)
        blob += struct.pack("B", CT2_DTYPE_IDS[array.dtype]) + struct.pack("I", array.nbytes) + array.tobytes()
    blob += struct.pack("I", 0)
    Path(path).write_bytes(blob)
    return blob


@pytest.fixture(scope="session")
def synthetic_root(tmp_path_factory):
    """A small RAVDESS-style tree: actors 1, 2 (2 emotions each), 48 kHz WAV,
    some stereo, lengths from 2.5 s to 4 s."""
    root = tmp_path_factory.mktemp("ravdess")
    for index, name in enumerate(n for n in ravdess_names((1, 2)) if n.split("-")[2] in ("01", "05")):
        actor_dir = root / SPEECH_FOLDER / f"Actor_{name[-2:]}"
        actor_dir.mkdir(parents=True, exist_ok=True)
        write_tone(actor_dir / f"{name}.wav", seconds=2.5 + 0.25 * (index % 7),
                   channels=2 if index % 5 == 0 else 1, seed=index)
    return root


@pytest.fixture(scope="session")
def full_names_root(tmp_path_factory):
    """A flat folder with all 1440 speech names as empty files (metadata only)."""
    root = tmp_path_factory.mktemp("names")
    for name in ravdess_names():
        (root / f"{name}.wav").touch()
    return root


#: The share of each actor's clips of each emotion (``ravdess_tf.sample_clips``, seed 0) that the slow
#: real-data runs use: the notebooks' ``FRACTION`` in their test and the Whisper head's test, which
#: trains on the same clips as notebook 12, so the two share one cache of encodings.
REAL_RUN_FRACTION = 0.25


def real_root():
    root = os.environ.get("RAVDESS_ROOT")
    return Path(root) if root and Path(root).is_dir() else None


@pytest.fixture(scope="session")
def real_metadata():
    root = real_root()
    if root is None:
        pytest.skip("set RAVDESS_ROOT to the real RAVDESS data to run this test")
    from ravdess_tf import load_metadata

    return load_metadata(root)
