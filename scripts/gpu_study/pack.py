"""Pack what a lent GPU machine needs to train log-mel models of a preset, without the audio.

That machine has JAX but no TensorFlow, Keras, soundfile or soxr, reaches no network, and
takes at most 64 MiB beside the repository, so the RAVDESS audio cannot travel. What travels
instead (into ``--out``, a git-ignored folder named in the device tool's ``carry``):

- the preset's feature cache, byte-planes split and zlib-compressed (lossless: 56 MB of
  float32 log-mel becomes 33 MB; checked by SHA-256 when unpacked);
- ``files.tsv``: every clip's path under RAVDESS_ROOT and size in bytes. The cache key is made
  of names and sizes, so sparse stand-in files of those sizes find the cache there;
- wheels of the Python packages the machine lacks, for its Python 3.12.

Usage (here; it extracts the features first if they are not cached yet)::

    python scripts/gpu_study/pack.py --preset full --out devrun

then on the machine: ``PRESET=full bash scripts/gpu_study/run.sh "vgg19 paper" "resnet50 actor_cv 0,resnet50 actor_cv 3"``.
"""

import argparse
import hashlib
import os
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np

from ravdess_tf.data import default_data_dir, load_metadata
from ravdess_tf.features import FeatureConfig, extract_features
from ravdess_tf.training import PRESETS

#: What the lent machine's image lacks (its KINDS.md lists what it has), at the versions used here.
WHEELS = ["keras==3.15.1", "namex==0.1.0", "optree==0.20.0", "soundfile==0.14.0", "soxr==1.1.0",
          "cffi==2.1.1", "pycparser==3.12"]
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64",
             "manylinux2014_x86_64", "manylinux1_x86_64"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="full", help="preset whose log-mel features travel (default: full)")
    parser.add_argument("--out", type=Path, default=Path("devrun"), help="folder to fill (default: devrun)")
    args = parser.parse_args()

    if args.preset not in PRESETS:
        parser.error(f"unknown preset {args.preset!r}; presets: {', '.join(PRESETS)}")
    config = FeatureConfig(**PRESETS[args.preset]["features"])
    if config.kind == "whisper":
        parser.error(f"preset {args.preset!r} uses Whisper features; this packs log-mel or MFCC presets only")
    root = default_data_dir()
    metadata = load_metadata(root)
    report = extract_features(metadata, config, return_report=True)
    features, cache = report.features, report.cache_path

    args.out.mkdir(parents=True, exist_ok=True)
    raw = cache.read_bytes()  # the .npy file as it is, header included, for the checksum
    # Bytes of one significance together compress far better than interleaved float32 (33 vs 36 MB).
    planes = np.ascontiguousarray(features.view(np.uint8).reshape(-1, 4).T)
    (args.out / "cache.header").write_bytes(raw[:len(raw) - features.nbytes])
    (args.out / "cache.planes.z").write_bytes(zlib.compress(planes.tobytes(), 6))
    (args.out / "cache.sha256").write_text(f"{hashlib.sha256(raw).hexdigest()}  {cache.name}\n")
    (args.out / "files.tsv").write_text("".join(
        f"{os.path.relpath(path, root)}\t{os.path.getsize(path)}\n" for path in metadata.path))

    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                    "--python-version", "3.12", "--implementation", "cp",
                    *[option for platform in PLATFORMS for option in ("--platform", platform)],
                    "-d", str(args.out / "whl"), *WHEELS], check=True)
    size = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file())
    print(f"Packed {len(metadata)} clips' features and {len(WHEELS)} wheels into {args.out} ({size / 1e6:.1f} MB).")


if __name__ == "__main__":
    main()
