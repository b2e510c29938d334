"""Feature extraction speed: ravdess_tf against a plain librosa loop, in one run.

    python benchmarks/bench_features.py [--data-dir ../shared/ravdess] [--limit N] [--format wav] [--repeat 3]

Times, over the same clips:

1. baseline: a per-file loop of ``librosa.load(path, sr=16000)`` +
   ``librosa.feature.melspectrogram`` + ``librosa.power_to_db`` (after a
   warm-up on a few files so imports and first-call costs are not counted);
2. ``extract_features`` cold (empty cache, all cores);
3. ``extract_features`` warm (every clip from the cache).

``--format wav`` first converts the clips to 16-bit WAV in a temporary folder
(users have the official WAV files; decoding FLAC costs about 2 ms a clip here,
more than the whole spectrogram). The machine is shared and noisy, so the ratios to the baseline of the same run
are what to quote, not the absolute times. ``--repeat`` alternates the
baseline and a cold extraction (each into a new empty cache) that many times
and reports each pair's ratio and their median, so that a burst of load from
other tenants spoils one pair rather than the figure.
"""

import argparse
import os
import platform
import statistics
import tempfile
import time

import librosa
import soundfile

import ravdess_tf
from ravdess_tf.features import FeatureConfig, extract_features


def plain_librosa_loop(paths, config):
    for path in paths:
        audio, _ = librosa.load(path, sr=config.sample_rate)
        mel = librosa.feature.melspectrogram(
            y=audio, sr=config.sample_rate, n_fft=config.n_fft,
            hop_length=config.hop_length, n_mels=config.n_mels)
        librosa.power_to_db(mel)


def as_wav(metadata, folder):
    """Copy the clips as 16-bit WAV files into ``folder``; the metadata of the copies."""
    copies = metadata.copy()
    for row, path in zip(copies.index, metadata["path"]):
        audio, rate = soundfile.read(path, dtype="int16")
        target = os.path.join(folder, os.path.basename(os.path.splitext(path)[0]) + ".wav")
        soundfile.write(target, audio, rate, subtype="PCM_16")
        copies.at[row, "path"] = target
    return copies


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    function(*args, **kwargs)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=os.environ.get("RAVDESS_ROOT", "../shared/ravdess"))
    parser.add_argument("--limit", type=int, default=None, help="use the first N clips only")
    parser.add_argument("--format", choices=("as-is", "wav"), default="as-is",
                        help="time the files as they are, or 16-bit WAV copies of them")
    parser.add_argument("--repeat", type=int, default=3,
                        help="baseline / cold pairs to time, alternating (default 3)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1, got {args.repeat}")

    metadata = ravdess_tf.load_metadata(args.data_dir)
    if args.limit:
        metadata = metadata.head(args.limit)
    config = FeatureConfig()
    pairs = []
    with tempfile.TemporaryDirectory() as scratch:
        if args.format == "wav":
            metadata = as_wav(metadata, scratch)
        paths = list(metadata["path"])
        plain_librosa_loop(paths[:5], config)  # warm-up: imports, numba, FFT plans
        for attempt in range(args.repeat):
            baseline = timed(plain_librosa_loop, paths, config)
            cache = os.path.join(scratch, f"cache-{attempt}")
            cold = timed(extract_features, metadata, config, cache_dir=cache, progress=False)
            pairs.append((baseline, cold))
        warm = timed(extract_features, metadata, config, cache_dir=cache, progress=False)

    suffixes = sorted({os.path.splitext(p)[1] for p in paths})
    print(f"{len(paths)} clips ({', '.join(suffixes)}), {os.cpu_count()} cores, "
          f"{platform.processor() or platform.machine()}, librosa {librosa.__version__}")
    for baseline, cold in pairs:
        print(f"plain librosa loop {baseline:6.2f} s ({1000 * baseline / len(paths):.2f} ms/clip)   "
              f"extract_features cold {cold:6.2f} s ({1000 * cold / len(paths):.2f} ms/clip)   "
              f"{cold / baseline:.2f}x")
    print(f"cold / loop, median of {len(pairs)}: {statistics.median(c / b for b, c in pairs):.2f}x")
    print(f"extract_features warm: {warm:.2f} s, {warm / statistics.median(b for b, _ in pairs):.3f}x of the loop")


if __name__ == "__main__":
    main()
