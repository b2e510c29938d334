"""Where features are kept between runs, and how they are told apart: cache folders, cache keys,
and the keyed feature table that travels to a worker instead of the audio.

A leaf of the package: it knows a feature configuration only by its ``key_fields()``.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .exceptions import ParameterError

#: Bump when the extraction code changes its output, so old caches are not reused.
#: 2: every clip is level-normalised first (FeatureConfig.level_dbfs).
FEATURE_VERSION = 2


def default_cache_dir() -> Path:
    """``$RAVDESS_TF_CACHE`` if set, else ``./data/cache`` (git-ignored)."""
    return Path(os.environ.get("RAVDESS_TF_CACHE") or Path("data") / "cache").expanduser()


def cache_key(paths: list[str], config) -> str:
    """A digest of the configuration and the file list (names and sizes).

    Names and sizes rather than absolute paths, so a moved copy of the same
    data finds its cache; a file replaced by one of another size does not.
    """
    return files_key([(Path(path).name, os.path.getsize(path)) for path in paths], config)


def files_key(files: list[tuple[str, int]], config) -> str:
    """:func:`cache_key` of files given as ``(name, size in bytes)``, for where the files are not at hand."""
    values = config.key_fields()
    digest = hashlib.sha256()
    digest.update(json.dumps({"version": FEATURE_VERSION, **values}, sort_keys=True).encode())
    for name, size in files:
        digest.update(f"\n{name}:{size}".encode())
    return digest.hexdigest()[:24]

@dataclass(frozen=True, eq=False)
class FeatureTable:
    """The features of a set of clips, found by clip id: what travels to a worker instead of the audio.

    Made where the audio is (:func:`feature_table`); a worker that trains on
    it reads no audio file. ``key`` is the cache key the features were made
    under (configuration, feature version, the clips' file names and sizes,
    ``files``) and ``digest`` a SHA-256 of the array: :meth:`check` computes
    both again, so that a table that changed on the way, or was made under
    another configuration or feature version, is refused.
    """

    config: object  #: the FeatureConfig the features were made under
    key: str
    clip_ids: tuple
    files: tuple  #: ``(file name, size in bytes)`` of each clip, in row order
    features: np.ndarray
    digest: str

    @staticmethod
    def array_digest(features: np.ndarray) -> str:
        return hashlib.sha256(np.ascontiguousarray(features).data).hexdigest()

    def check(self, config) -> None:
        """Raise :class:`ParameterError` unless this table holds ``config``'s features, intact."""
        if config.to_dict() != self.config.to_dict():
            raise ParameterError(f"the feature table {self.key} holds {self.config.tag} features; this run needs "
                                 f"{config.tag}")
        if files_key(list(self.files), config) != self.key:
            raise ParameterError(f"the feature table {self.key} was made under another key (feature version, "
                                 "configuration or clips); make it again where the audio is")
        if len(self.clip_ids) != len(self.features) or self.array_digest(self.features) != self.digest:
            raise ParameterError(f"the feature table {self.key} does not match its digest: it changed on the "
                                 "way; make it again where the audio is")

    def rows(self, clip_ids) -> np.ndarray:
        """The features of ``clip_ids``, in their order, shape ``(len(clip_ids), n_features, frames)``."""
        position = {clip: row for row, clip in enumerate(self.clip_ids)}
        missing = [clip for clip in clip_ids if clip not in position]
        if missing:
            raise ParameterError(f"the feature table {self.key} lacks {len(missing)} clips, e.g. {missing[0]}")
        return self.features[[position[clip] for clip in clip_ids]]
