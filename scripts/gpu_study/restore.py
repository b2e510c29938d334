"""On the GPU machine: put the feature cache that pack.py packed in place, with a stand-in RAVDESS tree.

Usage: python scripts/gpu_study/restore.py PACKED_FOLDER RAVDESS_ROOT CACHE_DIR

The stand-ins are empty (sparse) files with the real names and sizes: the cache key is made of
names and sizes, so training finds the cached features there and decodes no audio.
"""

import hashlib
import shutil
import sys
from pathlib import Path


def main(packed: Path, root: Path, cache_dir: Path) -> None:
    expected, name = (packed / "cache.sha256").read_text().split()
    cache = packed / "cache" / name
    if hashlib.sha256(cache.read_bytes()).hexdigest() != expected:
        sys.exit(f"{cache} does not match {packed / 'cache.sha256'}; copy it again, or pack it again with pack.py.")
    cache_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cache, cache_dir / name)

    listing = (packed / "files.tsv").read_text().splitlines()
    for line in listing:
        relative, size = line.split("\t")
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as stand_in:
            stand_in.truncate(int(size))
    print(f"Restored {name} into {cache_dir} and {len(listing)} stand-in clips under {root}.")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: python scripts/gpu_study/restore.py PACKED_FOLDER RAVDESS_ROOT CACHE_DIR")
    main(*(Path(arg) for arg in sys.argv[1:]))
