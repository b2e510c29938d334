"""Getting RAVDESS: the official archive downloaded (resumable), verified and extracted, and
:func:`load_or_download`, which downloads only into the default folder and only when it is empty."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pandas as pd

from .data import ARCHIVE_MD5, ARCHIVE_NAME, ARCHIVE_SIZE, ARCHIVE_URL, SPEECH_FOLDER, default_data_dir, load_metadata
from .exceptions import DataNotFoundError, DownloadError

logger = logging.getLogger(__name__)



_MARKER = ".ravdess_tf_verified.json"
_CHUNK = 1 << 20  # bytes read per network request: 1 MiB


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _fetch(url: str, part: Path, size: int | None, progress: bool, timeout: float) -> None:
    """Stream ``url`` into ``part``, resuming from its current length (HTTP Range)."""
    from tqdm.auto import tqdm

    have = part.stat().st_size if part.exists() else 0
    if size is not None and have > size:
        part.unlink()  # longer than the archive can be: not a prefix of it
        have = 0
    if size is not None and have == size:
        return
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        if error.code == 416 and have:  # nothing left to fetch
            return
        raise DownloadError(f"Downloading {url} failed: HTTP {error.code} {error.reason}") from error
    except (urllib.error.URLError, OSError) as error:
        raise DownloadError(
            f"Could not reach {url} ({error}). Check the network, or download "
            f"{ARCHIVE_NAME} by hand and point RAVDESS_ROOT at the extracted folder.") from error
    with response:
        resumed = response.status == 206
        mode = "ab" if resumed else "wb"
        start = have if resumed else 0
        length = response.headers.get("Content-Length")
        total = size if size is not None else (start + int(length) if length else None)
        with open(part, mode) as handle, tqdm(
            total=total, initial=start, unit="B", unit_scale=True, unit_divisor=1024,
            desc=f"Downloading {Path(url.split('?')[0]).name}", disable=not progress,
        ) as bar:
            for block in iter(lambda: response.read(_CHUNK), b""):
                handle.write(block)
                bar.update(len(block))


def _safe_extract(archive: Path, destination: Path) -> None:
    """Extract ``archive`` into ``destination``, refusing members that escape it."""
    with zipfile.ZipFile(archive) as bundle:
        for member in bundle.namelist():
            target = (destination / member).resolve()
            if destination.resolve() not in target.parents and target != destination.resolve():
                raise DownloadError(f"{archive.name} holds an unsafe path {member!r}; not extracting.")
        bundle.extractall(destination)


def download(
    dest: str | os.PathLike | None = None,
    *,
    url: str = ARCHIVE_URL,
    md5: str | None = ARCHIVE_MD5,
    size: int | None = ARCHIVE_SIZE,
    keep_archive: bool = False,
    progress: bool = True,
    timeout: float = 60.0,
) -> Path:
    """Download and extract the RAVDESS speech archive.

    The archive is streamed to ``<dest>/<name>.part`` (a partial file from an
    interrupted run is resumed with an HTTP Range request), its size and MD5
    are verified, and it is extracted through a temporary folder that is
    renamed into place, so ``<dest>/Audio_Speech_Actors_01-24`` is either
    complete or absent. A verified copy makes this a no-op.

    Parameters
    ----------
    dest : str, path-like or None
        Folder to download into; ``None`` means :func:`default_data_dir`.
    url, md5, size
        The archive's address, MD5 hex digest and size in bytes. The defaults
        are the official Zenodo archive; ``md5=None`` or ``size=None`` skips
        that check (for tests and mirrors).
    keep_archive : bool
        Keep the verified ``.zip`` after extraction (it is 208 MB).
    progress : bool
        Show a progress bar.
    timeout : float
        Network timeout in seconds.

    Returns
    -------
    pathlib.Path
        The extracted ``Audio_Speech_Actors_01-24`` folder, ready for
        :func:`load_metadata`.

    Raises
    ------
    DownloadError
        If the network fails (the partial file is kept, to be resumed) or the
        archive does not match ``size`` or ``md5`` (it is deleted).
    """
    dest = Path(dest).expanduser() if dest is not None else default_data_dir()
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / SPEECH_FOLDER
    marker = target / _MARKER
    if marker.is_file() and json.loads(marker.read_text()).get("md5") == md5:
        return target
    if target.exists():
        raise DownloadError(
            f"{str(target)!r} exists but was not made by a verified download. Use it as it is "
            "(set RAVDESS_ROOT to it), or move it away and run the download again.")

    archive_name = Path(urllib.request.url2pathname(url.split("?")[0])).name or ARCHIVE_NAME
    archive = dest / archive_name
    part = dest / (archive_name + ".part")
    if not archive.exists():
        _fetch(url, part, size, progress, timeout)
        problems = []
        got_size = part.stat().st_size
        if size is not None and got_size != size:
            problems.append(f"size {got_size:,} bytes, expected {size:,}")
        elif md5 is not None and (got_md5 := _md5(part)) != md5:
            problems.append(f"MD5 {got_md5}, expected {md5}")
        if problems:
            part.unlink()
            raise DownloadError(
                f"The download of {url} is corrupt ({'; '.join(problems)}); it was deleted. "
                "Run the download again; if it keeps failing, the server's copy differs.")
        os.replace(part, archive)

    with tempfile.TemporaryDirectory(dir=dest, prefix=".extract-") as scratch:
        scratch = Path(scratch)
        _safe_extract(archive, scratch)
        # The official archive holds Actor_NN folders at its top level.
        source = scratch / SPEECH_FOLDER if (scratch / SPEECH_FOLDER).is_dir() else scratch / "clips"
        if source.name == "clips":
            source.mkdir()
            for entry in list(scratch.iterdir()):
                if entry != source:
                    shutil.move(str(entry), source / entry.name)
        (source / _MARKER).write_text(json.dumps({"url": url, "md5": md5, "size": size}))
        os.replace(source, target)
    if not keep_archive:
        archive.unlink()
    return target


def load_or_download(data_dir: str | os.PathLike | None = None, **download_options) -> pd.DataFrame:
    """:func:`load_metadata` of ``data_dir``; with ``data_dir=None``, download RAVDESS when it is missing.

    ``None`` means :func:`default_data_dir` (``$RAVDESS_ROOT``, ``$RAVDESS_TF_DATA`` or
    ``./data``); when no clips are found there the official archive is
    downloaded into it. A folder given explicitly is never downloaded into:
    a wrong path should be an error, not a 208 MB surprise. ``download_options``
    go to :func:`download` (``url``, ``md5``, ``size``, ``progress``).
    """
    root = Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
    try:
        return load_metadata(root)
    except DataNotFoundError:
        if data_dir is not None:
            raise
    logger.info("No RAVDESS clips under %s; downloading them there (208 MB).", root)
    return load_metadata(download(root, **download_options))
