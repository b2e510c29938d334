"""Features of every clip, cached: :class:`FeatureConfig` (what a clip becomes) and
:func:`extract_features`, the one loop that drives every front-end (log-mel and MFCC in
:mod:`ravdess_tf.spectrogram`, Whisper in :mod:`ravdess_tf.whisper`) and writes its cache.

Clips are processed on a thread pool: soundfile, soxr, scipy's FFT and NumPy's
loops release the GIL, and threads avoid the fork-after-TensorFlow hazards of
process pools."""

from __future__ import annotations

import contextlib
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from .atomic import NpyRowWriter
from .audio import DEFAULT_LEVEL_DBFS, read_clip
from .cache import FeatureTable, cache_key, default_cache_dir, files_key
from .exceptions import AudioError, ParameterError
from .spectrogram import SpectrogramFrontEnd
from .whisper import SAMPLE_RATE as WHISPER_SAMPLE_RATE
from .whisper import HOP_LENGTH as WHISPER_HOP_LENGTH
from .whisper import WHISPER_MODELS, WhisperFrontEnd, encoder_frames, whisper_width

FEATURE_KINDS = ("logmel", "mfcc", "whisper")
#: FeatureConfig fields that only ``kind="whisper"`` reads.
WHISPER_FIELDS = ("whisper_model", "layer", "pad_to_30s")
#: A centred window: what every feature cache made before ``crop_position`` existed holds.
DEFAULT_CROP_POSITION = 0.5


@dataclass(frozen=True)
class FeatureConfig:
    """How a clip becomes a 2-D feature array of shape ``(n_features, frames)``.

    The defaults give a ``(128, 188)`` log-mel spectrogram per clip.
    """

    #: ``"logmel"`` (log-power mel spectrogram, dB), ``"mfcc"`` (MFCCs from it) or
    #: ``"whisper"`` (hidden states of a frozen Whisper encoder; see :mod:`ravdess_tf.whisper`).
    kind: str = "logmel"
    #: Hz. Speech carries its emotion cues well below 8 kHz, and 16 kHz makes
    #: every clip a third of its 48 kHz size.
    sample_rate: int = 16_000
    #: Seconds. RAVDESS clips last 2.94-5.27 s (mean 3.70 s) with silence at both
    #: ends; a centred 3 s window keeps the statement and gives one fixed shape.
    #: Shorter clips are zero-padded on both sides.
    duration: float = 3.0
    #: Where the window sits in a longer clip, as a fraction of the samples left over:
    #: 0 its start, 0.5 its centre, 1 its end. Training on several positions
    #: (``TrainConfig.train_crops``) is a lever of results/whisper.md.
    crop_position: float = DEFAULT_CROP_POSITION
    #: Cut leading and trailing silence before cropping (librosa.effects.trim).
    trim_silence: bool = False
    #: dB below the clip's peak that counts as silence when ``trim_silence``.
    trim_top_db: float = 30.0
    #: dBFS: every clip is scaled so that its active speech has this RMS level
    #: (:func:`normalize_level`) before any features are computed, in training
    #: and at prediction alike. RAVDESS speech sits near -39 dBFS (active
    #: frames) and people's recordings some 20 dB higher; a model that sees the
    #: level learns it (the bundled log-mel model fell from 0.86 to 0.11
    #: accuracy on the same clips peak-normalised). ``None`` keeps each
    #: recording's own level, as feature version 1 did.
    level_dbfs: float | None = DEFAULT_LEVEL_DBFS
    #: Samples per FFT window: 512 at 16 kHz is 32 ms, the usual speech frame.
    n_fft: int = 512
    #: Samples between frames: 256 at 16 kHz is 16 ms (50 % overlap), 188 frames per 3 s.
    hop_length: int = 256
    #: Mel bands: 128 resolves pitch harmonics, which carry much of the emotion.
    n_mels: int = 128
    #: Hz, lowest and highest mel band edge; ``None`` for fmax means sample_rate / 2.
    fmin: float = 0.0
    fmax: float | None = None
    #: The log spectrogram is floored at its peak minus this many dB (librosa's default).
    top_db: float | None = 80.0
    #: MFCCs kept when ``kind="mfcc"``.
    n_mfcc: int = 40
    #: Append first and second time derivatives of the MFCCs (3 x n_mfcc rows).
    mfcc_deltas: bool = True
    #: ``kind="whisper"``: ``"base"``, ``"small"`` or a faster-whisper model folder.
    whisper_model: str = "base"
    #: ``kind="whisper"``: which hidden states, 0 (convolutional stem) to the last
    #: block; several are stacked along the feature axis. Layers 2-4 of base's 6
    #: tied with 2-5 for the best validation-actor score and are smaller
    #: (results/whisper.md): the middle of the encoder keeps more of how a thing
    #: is said than its top, which serves transcription.
    layer: int | tuple = (2, 3, 4)
    #: ``kind="whisper"``: encode each clip padded to 30 s as Whisper does when
    #: transcribing (14x the work) instead of the clip alone.
    pad_to_30s: bool = False

    def __post_init__(self):
        if self.kind not in FEATURE_KINDS:
            raise ParameterError(f"FeatureConfig.kind must be one of {FEATURE_KINDS}, got {self.kind!r}")
        layers = (self.layer,) if isinstance(self.layer, (int, np.integer)) else tuple(self.layer)
        if not layers or not all(isinstance(v, (int, np.integer)) and v >= 0 for v in layers):
            raise ParameterError(f"FeatureConfig.layer must be a non-negative integer or a list of them, "
                                 f"got {self.layer!r}")
        object.__setattr__(self, "layer", int(layers[0]) if len(layers) == 1 else tuple(map(int, layers)))
        if self.kind == "whisper":
            self._check_whisper()
        for name in ("sample_rate", "n_fft", "hop_length", "n_mels", "n_mfcc"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value <= 0:
                raise ParameterError(f"FeatureConfig.{name} must be a positive integer, got {value!r}")
        if not self.duration > 0:
            raise ParameterError(f"FeatureConfig.duration must be positive (seconds), got {self.duration!r}")
        nyquist = self.sample_rate / 2
        if not 0 <= self.fmin < (self.fmax or nyquist) <= nyquist:
            raise ParameterError(
                f"FeatureConfig needs 0 <= fmin < fmax <= sample_rate / 2 = {nyquist} Hz, "
                f"got fmin={self.fmin!r}, fmax={self.fmax!r}")
        if not (isinstance(self.crop_position, (int, float)) and 0 <= self.crop_position <= 1):
            raise ParameterError(f"FeatureConfig.crop_position must be a number in [0, 1] (0 the start of a clip, "
                                 f"0.5 its centre, 1 its end), got {self.crop_position!r}")
        object.__setattr__(self, "crop_position", float(self.crop_position))  # 0 and 0.0 name one cache
        if self.level_dbfs is not None and not -80 <= self.level_dbfs <= 0:
            raise ParameterError(f"FeatureConfig.level_dbfs must be None or in [-80, 0] dBFS, got {self.level_dbfs!r}")
        if self.kind == "mfcc" and self.n_mfcc > self.n_mels:
            raise ParameterError(f"n_mfcc ({self.n_mfcc}) cannot exceed n_mels ({self.n_mels})")

    def _check_whisper(self):
        if self.sample_rate != WHISPER_SAMPLE_RATE:
            raise ParameterError(f"kind='whisper' needs sample_rate={WHISPER_SAMPLE_RATE} (Whisper's), got "
                                 f"{self.sample_rate}")
        if self.whisper_model in WHISPER_MODELS:
            depth = WHISPER_MODELS[self.whisper_model].layers
            if max(self.layers) > depth:
                raise ParameterError(f"Whisper {self.whisper_model!r} has layers 0-{depth}, got layer={self.layer!r}")

    @property
    def layers(self) -> tuple[int, ...]:
        """``layer`` as a tuple."""
        return (self.layer,) if isinstance(self.layer, int) else self.layer

    @property
    def tag(self) -> str:
        """A short name of the front-end for tables: ``logmel80+level``, ``mfcc40+level``,
        ``whisper-base-L2+3+4+level-20``: ``+level`` for clips brought to the default
        -25 dBFS, ``+levelN`` for another level N, nothing for clips at their recorded level;
        ``+cropP`` for a window at position P rather than centred."""
        suffix = ("" if self.level_dbfs is None else "+level" if self.level_dbfs == DEFAULT_LEVEL_DBFS
                  else f"+level{self.level_dbfs:g}")
        if self.crop_position != DEFAULT_CROP_POSITION:
            suffix += f"+crop{self.crop_position:g}"
        if self.kind == "logmel":
            return f"logmel{self.n_mels}{suffix}"
        if self.kind == "mfcc":
            return f"mfcc{self.n_mfcc}{suffix}"
        model = self.whisper_model if self.whisper_model in WHISPER_MODELS else Path(self.whisper_model).name
        return f"whisper-{model}-L{'+'.join(map(str, self.layers))}" + ("-pad30" if self.pad_to_30s else "") + suffix

    @property
    def num_samples(self) -> int:
        """Samples per clip after cropping or padding."""
        return int(round(self.duration * self.sample_rate))

    @property
    def num_frames(self) -> int:
        """Frames per clip: centred spectrogram frames, or Whisper encoder frames (20 ms)."""
        if self.kind == "whisper":
            return encoder_frames(self.num_samples // WHISPER_HOP_LENGTH + 1)
        return 1 + self.num_samples // self.hop_length

    @property
    def num_features(self) -> int:
        """Rows of the feature array: mel bands, MFCCs (x3 with deltas), or Whisper width x layers."""
        if self.kind == "logmel":
            return self.n_mels
        if self.kind == "whisper":
            return whisper_width(self.whisper_model) * len(self.layers)
        return self.n_mfcc * (3 if self.mfcc_deltas else 1)

    @property
    def shape(self) -> tuple[int, int]:
        """``(num_features, num_frames)`` of one clip."""
        return (self.num_features, self.num_frames)

    def key_fields(self) -> dict:
        """What names this configuration's cache files (:func:`ravdess_tf.cache.cache_key`): :meth:`to_dict`
        less the Whisper fields when ``kind`` is not ``"whisper"`` and less a centred ``crop_position``,
        so that caches made before those fields existed stay valid."""
        values = self.to_dict()
        if self.kind != "whisper":
            for name in WHISPER_FIELDS:
                values.pop(name)
        if values["crop_position"] == DEFAULT_CROP_POSITION:
            values.pop("crop_position")
        return values

    def to_dict(self) -> dict:
        values = asdict(self)
        values["layer"] = list(self.layers) if len(self.layers) > 1 else self.layer
        return values

    @classmethod
    def from_dict(cls, values: dict) -> "FeatureConfig":
        """The configuration a run recorded (``config.json``'s ``feature_config``).

        Runs recorded before level normalisation existed have no ``level_dbfs``:
        they saw each recording at its own level, and still do.
        """
        return cls(**{"level_dbfs": None, **values})


# --------------------------------------------------------------------------
# Cached extraction over a metadata table
# --------------------------------------------------------------------------


class FeatureReport(NamedTuple):
    """What :func:`extract_features` made, with ``return_report=True``."""

    features: np.ndarray  #: (kept clips, n_features, frames), float32
    kept: pd.DataFrame  #: the metadata rows of the kept clips, in order
    skipped: list  #: (path, reason) of each skipped clip
    cache_path: Path | None  #: the cache file read or written; None if not cached


def extract_features(
    metadata: pd.DataFrame,
    config: FeatureConfig | None = None,
    *,
    cache_dir: str | os.PathLike | None = None,
    use_cache: bool = True,
    n_jobs: int | None = None,
    on_error: str = "raise",
    progress: bool = True,
    return_report: bool = False,
):
    """Features of every clip in ``metadata``, computed in parallel and cached.

    Parameters
    ----------
    metadata : pandas.DataFrame
        Needs a ``path`` column (from :func:`ravdess_tf.load_metadata`).
    config : FeatureConfig or None
        ``None`` means ``FeatureConfig()`` (128-band log-mel, 3 s at 16 kHz).
    cache_dir : str, path-like or None
        Where cached arrays live; ``None`` means :func:`default_cache_dir`.
    use_cache : bool
        Read and write the cache. A cache is written only when no clip failed.
    n_jobs : int or None
        Worker threads; ``None`` means one per CPU core.
    on_error : {"raise", "skip"}
        ``"raise"`` stops at the first unreadable clip (an :class:`AudioError`
        naming it); ``"skip"`` leaves it out and warns with the list.
    progress : bool
        Show a progress bar.
    return_report : bool
        Return a :class:`FeatureReport` (features, kept rows, skipped clips,
        cache file) instead of the bare array; use it with ``on_error="skip"``
        to know which rows the features belong to.

    Returns
    -------
    numpy.ndarray or FeatureReport
        Features of shape ``(clips, n_features, frames)``, float32.
    """
    config = config or FeatureConfig()
    if not isinstance(config, FeatureConfig):
        raise ParameterError(f"config must be a FeatureConfig, got {type(config).__name__}")
    if on_error not in ("raise", "skip"):
        raise ParameterError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    if "path" not in metadata:
        raise ParameterError("metadata needs a 'path' column; build it with ravdess_tf.load_metadata()")
    if len(metadata) == 0:
        raise ParameterError("metadata is empty: there are no clips to extract features from")
    if n_jobs is not None and (not isinstance(n_jobs, int) or n_jobs < 1):
        raise ParameterError(f"n_jobs must be a positive integer or None, got {n_jobs!r}")

    paths = [str(p) for p in metadata["path"]]
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing and on_error == "raise":
        raise AudioError(f"Audio file {missing[0]!r} does not exist ({len(missing)} missing in all)")
    front_end = make_front_end(config)
    files = {}
    if use_cache and not missing:
        folder = Path(cache_dir or default_cache_dir())
        files = {part: folder / f"{config.kind}-{cache_key(paths, part_config)}.npy"
                 for part, part_config in front_end.parts.items()}
        cached = _read_cache(files, front_end, len(paths))
        if cached is not None:
            features = front_end.combine(cached)
            first = files[front_end.needed[0]]
            return FeatureReport(features, metadata, [], first) if return_report else features
    parts, failures = _extract(paths, front_end, files, on_error, n_jobs or os.cpu_count() or 1, progress)
    cache_path = files[front_end.needed[0]] if files and not any(failures) else None
    return _finish(front_end.combine(parts), failures, paths, metadata, cache_path, return_report)


def _read_cache(files: dict, front_end, clips: int) -> dict | None:
    """The cached arrays of the parts the features need, or None if one is missing or stale."""
    if not all(files[part].is_file() for part in front_end.needed):
        return None
    arrays = {part: np.load(files[part]) for part in front_end.needed}
    stale = [part for part, array in arrays.items() if array.shape != (clips, *front_end.shapes[part])]
    if stale:
        warnings.warn(f"Ignoring cache {str(files[stale[0]])!r}: its shape {arrays[stale[0]].shape} is stale.",
                      stacklevel=3)
        return None
    return arrays


#: Clips read ahead of the front-end at most: bounds memory for long corpora (the Whisper path holds clips).
_CHUNK_CLIPS = 256


def _extract(paths, front_end, files: dict, on_error: str, workers: int, progress: bool):
    """Run every clip through ``front_end``; write each part's cache row by row as results arrive.

    Threads read (and, for a per-clip front-end, transform) the clips; the
    front-end's batch step runs here. Returns ``({part: array}, failures)``,
    a failure being None or the reason the clip was left out.
    """
    from tqdm.auto import tqdm

    parts = {part: np.zeros((len(paths), *shape), front_end.dtypes[part]) for part, shape in front_end.shapes.items()}
    failures: list = [None] * len(paths)

    def work(row: int) -> np.ndarray:
        try:
            return front_end.per_clip(read_clip(paths[row], front_end.config))
        except AudioError as error:
            if on_error == "raise":
                raise
            failures[row] = str(error)
            return front_end.placeholder()

    with contextlib.ExitStack() as stack:
        if front_end.single_threaded_blas:
            # One BLAS thread per worker: the mel product is small, and BLAS threads
            # inside each worker thread would fight over the same cores.
            stack.enter_context(threadpool_limits(limits=1, user_api="blas"))
        pool = stack.enter_context(ThreadPoolExecutor(max_workers=workers))
        writers = {part: stack.enter_context(NpyRowWriter(path, parts[part].shape, parts[part].dtype))
                   for part, path in files.items()}
        bar = stack.enter_context(tqdm(total=len(paths), desc=front_end.description, unit="clip",
                                       disable=not progress))
        for chunk in range(0, len(paths), _CHUNK_CLIPS):
            results = pool.map(work, range(chunk, min(chunk + _CHUNK_CLIPS, len(paths))))
            batch, rows = [], []
            for row, item in enumerate(results, start=chunk):
                batch.append(item)
                rows.append(row)
                if len(batch) == front_end.batch_size or row == min(chunk + _CHUNK_CLIPS, len(paths)) - 1:
                    for part, values in front_end.per_batch(batch).items():
                        parts[part][rows] = values
                        for row_of_batch in rows:
                            _write_row(writers.get(part), parts[part][row_of_batch], failures[row_of_batch])
                    bar.update(len(rows))
                    batch, rows = [], []
    return parts, failures


def _write_row(writer, row: np.ndarray, failure: str | None) -> None:
    if writer is None:
        return
    if failure is None:
        writer.write(row)
    else:  # a cache is kept only when every clip succeeded
        writer.abandon()


def make_front_end(config: FeatureConfig):
    """The front-end :func:`extract_features` drives for ``config.kind``."""
    return WhisperFrontEnd(config) if config.kind == "whisper" else SpectrogramFrontEnd(config)


def feature_table(metadata: pd.DataFrame, config: FeatureConfig, *, cache_dir=None,
                  progress: bool = True) -> FeatureTable:
    """The :class:`FeatureTable` of every clip of ``metadata`` (read from the cache, or extracted into it)."""
    features = extract_features(metadata, config, cache_dir=cache_dir, progress=progress)
    files = tuple((Path(path).name, os.path.getsize(path)) for path in metadata["path"])
    return FeatureTable(config=config, key=files_key(list(files), config), clip_ids=tuple(metadata["clip_id"]),
                        files=files, features=features, digest=FeatureTable.array_digest(features))


def _finish(features, failures, paths, metadata, cache_path, return_report):
    """Drop the rows of failed clips, warn with their list, and return what was asked for."""
    kept_mask = np.array([failure is None for failure in failures])
    skipped = [(path, failure) for path, failure in zip(paths, failures) if failure is not None]
    if skipped:
        features = features[kept_mask]
        listing = "\n".join(f"  {path}: {reason}" for path, reason in skipped)
        warnings.warn(f"Skipped {len(skipped)} of {len(paths)} clips:\n{listing}", stacklevel=3)
        cache_path = None
    if return_report:
        return FeatureReport(features, metadata[kept_mask], skipped, cache_path)
    return features
