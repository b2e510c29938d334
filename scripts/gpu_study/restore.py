"""On the GPU machine: rebuild the feature cache that pack.py packed, and a stand-in RAVDESS tree.

Usage: python restore.py PACKED_FOLDER RAVDESS_ROOT CACHE_DIR

The stand-ins are sparse files with the real names and sizes: the cache key is made of names
and sizes, so training finds the cached features there and decodes no audio.
"""

import hashlib
import sys
import zlib
from pathlib import Path

import numpy as np


def main(packed: Path, root: Path, cache_dir: Path) -> None:
    header = (packed / "cache.header").read_bytes()
    planes = np.frombuffer(zlib.decompress((packed / "cache.planes.z").read_bytes()), np.uint8)
    raw = header + np.ascontiguousarray(planes.reshape(4, -1).T).tobytes()
    expected, name = (packed / "cache.sha256").read_text().split()
    if hashlib.sha256(raw).hexdigest() != expected:
        sys.exit(f"The unpacked cache does not match {packed / 'cache.sha256'}; pack it again with pack.py.")
    cache_dir.mkdir(parents=True, exist_ok=True)
    (cache_dir / name).write_bytes(raw)

    listing = (packed / "files.tsv").read_text().splitlines()
    for line in listing:
        relative, size = line.split("\t")
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as stand_in:
            stand_in.truncate(int(size))
    print(f"Restored {name} and {len(listing)} stand-in clips under {root}.")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: python restore.py PACKED_FOLDER RAVDESS_ROOT CACHE_DIR")
    main(*(Path(arg) for arg in sys.argv[1:]))
