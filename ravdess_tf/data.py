"""RAVDESS facts and metadata: what every clip is, and where the clips are.

Everything the project knows about the dataset lives here: the file-name
convention, the eight emotions, the archive on Zenodo, its checksum, the
citation and the licence. :mod:`ravdess_tf.download` fetches the archive.

RAVDESS names every clip ``MM-VV-EE-II-SS-RR-AA.wav`` (seven two-digit fields):
modality, vocal channel, emotion, intensity, statement, repetition and actor.
This project uses the audio-only speech part (modality 03, vocal channel 01):
1440 clips from 24 actors.
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from .exceptions import DataNotFoundError, ParameterError

# --------------------------------------------------------------------------
# Dataset facts
# --------------------------------------------------------------------------

#: Emotion names in the order of their RAVDESS code (01 = neutral ... 08 = surprised).
EMOTIONS = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")
MODALITIES = {1: "full-AV", 2: "video-only", 3: "audio-only"}
VOCAL_CHANNELS = {1: "speech", 2: "song"}
INTENSITIES = {1: "normal", 2: "strong"}
STATEMENTS = {1: "Kids are talking by the door", 2: "Dogs are sitting by the door"}
NUM_ACTORS = 24
AUDIO_SUFFIXES = (".wav", ".flac")

#: The official archive of the speech audio on Zenodo.
ZENODO_RECORD = 1188976
ARCHIVE_NAME = "Audio_Speech_Actors_01-24.zip"
ARCHIVE_URL = f"https://zenodo.org/records/{ZENODO_RECORD}/files/{ARCHIVE_NAME}?download=1"
ARCHIVE_SIZE = 208_468_073  # bytes
ARCHIVE_MD5 = "bc696df654c87fed845eb13823edef8a"
#: The folder the archive's clips live in once extracted.
SPEECH_FOLDER = "Audio_Speech_Actors_01-24"

CITATION = (
    "Livingstone SR, Russo FA (2018). The Ryerson Audio-Visual Database of Emotional "
    "Speech and Song (RAVDESS): A dynamic, multimodal set of facial and vocal expressions "
    "in North American English. PLoS ONE 13(5): e0196391. "
    "https://doi.org/10.1371/journal.pone.0196391"
)
LICENSE = "CC BY-NC-SA 4.0 (Creative Commons Attribution-NonCommercial-ShareAlike 4.0)"

FILENAME_PATTERN = "MM-VV-EE-II-SS-RR-AA (seven two-digit fields), e.g. 03-01-05-02-01-01-12.wav"
_FILENAME_RE = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")

#: Metadata columns, in order.
METADATA_COLUMNS = (
    "path", "clip_id", "actor", "gender", "emotion", "emotion_id", "intensity",
    "statement", "repetition", "modality", "vocal_channel",
)

HOW_TO_GET_DATA = (
    "Download it with `ravdess-tf download` (or `ravdess_tf.download(dest)`), or point "
    "RAVDESS_ROOT or --data-dir at a folder that holds Audio_Speech_Actors_01-24 "
    "(the official .wav files or a .flac copy)."
)


@dataclass(frozen=True)
class ClipInfo:
    """The fields encoded in one RAVDESS file name.

    ``emotion_id`` is 0-based (0 = neutral ... 7 = surprised), ready to be a
    class label; ``clip_id`` is the file name without its suffix.
    """

    clip_id: str
    modality: int
    vocal_channel: int
    emotion_id: int
    emotion: str
    intensity: str
    statement: int
    repetition: int
    actor: int
    gender: str


def gender_of_actor(actor: int) -> str:
    """RAVDESS actors with odd numbers are male, even numbers female."""
    if not 1 <= int(actor) <= NUM_ACTORS:
        raise ParameterError(f"actor must be in 1..{NUM_ACTORS}, got {actor!r}")
    return "male" if int(actor) % 2 else "female"


def parse_filename(path: str | os.PathLike) -> ClipInfo:
    """Parse a RAVDESS file name into its fields.

    Parameters
    ----------
    path : str or path-like
        A file name or path; only the name is read, its suffix is ignored.

    Returns
    -------
    ClipInfo

    Raises
    ------
    ParameterError
        If the name does not follow the RAVDESS pattern or a field is out of range.
    """
    stem = Path(path).stem
    match = _FILENAME_RE.match(stem)
    if not match:
        raise ParameterError(
            f"{Path(path).name!r} is not a RAVDESS file name; expected {FILENAME_PATTERN}"
        )
    modality, channel, emotion, intensity, statement, repetition, actor = map(int, match.groups())
    ranges = {
        "modality": (modality, MODALITIES), "vocal channel": (channel, VOCAL_CHANNELS),
        "emotion": (emotion, range(1, len(EMOTIONS) + 1)), "intensity": (intensity, INTENSITIES),
        "statement": (statement, STATEMENTS), "repetition": (repetition, (1, 2)),
        "actor": (actor, range(1, NUM_ACTORS + 1)),
    }
    for field, (value, allowed) in ranges.items():
        if value not in allowed:
            raise ParameterError(
                f"{Path(path).name!r}: {field} code {value:02d} is out of range "
                f"(allowed: {', '.join(f'{a:02d}' for a in allowed)}); expected {FILENAME_PATTERN}"
            )
    return ClipInfo(
        clip_id=stem, modality=modality, vocal_channel=channel, emotion_id=emotion - 1,
        emotion=EMOTIONS[emotion - 1], intensity=INTENSITIES[intensity], statement=statement,
        repetition=repetition, actor=actor, gender=gender_of_actor(actor),
    )


# --------------------------------------------------------------------------
# Finding the data
# --------------------------------------------------------------------------

def default_data_dir() -> Path:
    """Where data is looked for and downloaded when no folder is given.

    ``$RAVDESS_ROOT`` if set, else ``$RAVDESS_TF_DATA``, else ``./data``.
    """
    for variable in ("RAVDESS_ROOT", "RAVDESS_TF_DATA"):
        if os.environ.get(variable):
            return Path(os.environ[variable]).expanduser()
    return Path("data")


def _speech_folder(root: Path) -> Path:
    """The folder to search: ``root/Audio_Speech_Actors_01-24`` if present, else ``root``."""
    nested = root / SPEECH_FOLDER
    return nested if nested.is_dir() else root


def load_metadata(root: str | os.PathLike | None = None) -> pd.DataFrame:
    """Describe every RAVDESS speech clip under ``root``.

    Parameters
    ----------
    root : str, path-like or None
        The folder that holds ``Audio_Speech_Actors_01-24``, that folder itself
        (with ``Actor_NN`` sub-folders), or a flat folder of RAVDESS-named
        ``.wav`` or ``.flac`` files. ``None`` means :func:`default_data_dir`.

    Returns
    -------
    pandas.DataFrame
        One row per clip, sorted by actor then clip id, with the columns
        ``path`` (absolute, str), ``clip_id``, ``actor``, ``gender``,
        ``emotion``, ``emotion_id`` (0-based class label), ``intensity``,
        ``statement``, ``repetition``, ``modality`` and ``vocal_channel``.

    Raises
    ------
    DataNotFoundError
        If ``root`` does not exist or holds no RAVDESS speech clip.

    Warns
    -----
    UserWarning
        For files that are skipped: song or video clips, audio files whose
        name is not a RAVDESS name, and a ``.flac`` that duplicates a ``.wav``
        of the same clip.
    """
    root = Path(root).expanduser() if root is not None else default_data_dir()
    if not root.is_dir():
        raise DataNotFoundError(f"RAVDESS data folder {str(root)!r} does not exist. {HOW_TO_GET_DATA}")
    folder = _speech_folder(root)
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())

    rows: dict[str, dict] = {}
    not_ravdess, not_speech, duplicates = [], [], []
    for path in files:
        try:
            info = parse_filename(path)
        except ParameterError:
            not_ravdess.append(path.name)
            continue
        if (info.modality, info.vocal_channel) != (3, 1):
            not_speech.append(path.name)
            continue
        if info.clip_id in rows:
            # The same clip as .wav and .flac: the official .wav wins.
            duplicates.append(path.name)
            if path.suffix.lower() != ".wav":
                continue
        rows[info.clip_id] = {"path": str(path.resolve()), **asdict(info)}

    if not_speech:
        warnings.warn(
            f"Skipped {len(not_speech)} RAVDESS files under {str(folder)!r} that are not audio-only "
            f"speech (modality 03, vocal channel 01), e.g. {not_speech[0]!r}; this project uses "
            "the speech clips only.", stacklevel=2)
    if not_ravdess:
        warnings.warn(
            f"Skipped {len(not_ravdess)} audio files under {str(folder)!r} whose names are not "
            f"RAVDESS names, e.g. {not_ravdess[0]!r}; expected {FILENAME_PATTERN}.", stacklevel=2)
    if duplicates:
        warnings.warn(
            f"{len(duplicates)} clips are present twice (as .wav and .flac), e.g. "
            f"{duplicates[0]!r}; the .wav files are used.", stacklevel=2)
    if not rows:
        raise DataNotFoundError(
            f"No RAVDESS speech clips (.wav or .flac) found under {str(folder)!r}. {HOW_TO_GET_DATA}")

    metadata = pd.DataFrame(list(rows.values()))
    metadata = metadata.sort_values(["actor", "clip_id"], ignore_index=True)
    return metadata[list(METADATA_COLUMNS)]
