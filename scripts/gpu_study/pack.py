"""Pack a preset's feature cache, for a GPU machine that has no copy of the audio.

Training reads only the cached features, so a GPU machine needs them and not the 1.5 hours of
audio. This writes into ``--out``:

- the preset's feature cache (``cache/<key>.npy``, extracted first if it is not cached yet) and
  its SHA-256;
- ``files.tsv``: every clip's path under RAVDESS_ROOT and size in bytes. The cache key is made of
  file names and sizes, so empty stand-in files of those sizes (``restore.py``) find the cache
  there and no audio is decoded.

Usage, on the machine with the data::

    python scripts/gpu_study/pack.py --preset full --out gpu-pack

then copy ``gpu-pack/`` to the GPU machine and follow ``scripts/gpu_study/README.md``.
"""

import argparse
import hashlib
import os
import shutil
from pathlib import Path

from ravdess_tf.data import default_data_dir, load_metadata
from ravdess_tf.features import FeatureConfig, extract_features
from ravdess_tf.training import PRESETS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="full", help="preset whose log-mel features travel (default: full)")
    parser.add_argument("--out", type=Path, default=Path("gpu-pack"), help="folder to fill (default: gpu-pack)")
    args = parser.parse_args()

    if args.preset not in PRESETS:
        parser.error(f"unknown preset {args.preset!r}; presets: {', '.join(PRESETS)}")
    config = FeatureConfig(**PRESETS[args.preset]["features"])
    if config.kind == "whisper":
        parser.error(f"preset {args.preset!r} uses Whisper features; this packs log-mel or MFCC presets only")
    root = default_data_dir()
    metadata = load_metadata(root)
    cache = extract_features(metadata, config, return_report=True).cache_path

    (args.out / "cache").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cache, args.out / "cache" / cache.name)
    digest = hashlib.sha256(cache.read_bytes()).hexdigest()
    (args.out / "cache.sha256").write_text(f"{digest}  {cache.name}\n")
    (args.out / "files.tsv").write_text("".join(
        f"{os.path.relpath(path, root)}\t{os.path.getsize(path)}\n" for path in metadata.path))
    size = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file())
    print(f"Packed {len(metadata)} clips' {args.preset} features into {args.out} ({size / 1e6:.1f} MB).")


if __name__ == "__main__":
    main()
