"""Whisper-base encoder speed: our Keras encoder against CTranslate2, padded and unpadded.

Both encode the same clips in the same run, one clip per call (as ``predict``
does), after one warm-up call each; CTranslate2 (float32, the reference the
tests check against) is the baseline, so the ratio holds on a noisy machine.
Then the latency of ``ravdess-tf predict --pretrained whisper`` from a cold
start (a new process: imports, encoder weights, one clip).

    python benchmarks/bench_whisper.py [--clips 20] [--data-dir ../shared/ravdess]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import numpy as np


def per_clip_seconds(encode, mels) -> float:
    encode(mels[0])  # warm-up: graph tracing, thread pools
    start = time.perf_counter()
    for mel in mels:
        encode(mel)
    return (time.perf_counter() - start) / len(mels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=20, help="clips to encode per setting (default 20)")
    parser.add_argument("--data-dir", default=os.environ.get("RAVDESS_ROOT", "../shared/ravdess"))
    args = parser.parse_args()

    import ctranslate2

    import ravdess_tf
    from ravdess_tf import whisper
    from ravdess_tf.audio import load_audio

    metadata = ravdess_tf.load_metadata(args.data_dir)
    paths = metadata["path"].sample(args.clips, random_state=0).tolist()
    clips = [load_audio(path) for path in paths]
    folder = whisper.locate_model("base")
    reference = ctranslate2.models.Whisper(str(folder), device="cpu", compute_type="float32",
                                           intra_threads=os.cpu_count() or 1)
    encoder = whisper.load_whisper_encoder("base")
    print(f"{len(clips)} RAVDESS clips (whole, {np.mean([len(c) for c in clips]) / 16000:.2f} s on average), "
          f"{os.cpu_count()} CPU cores, Keras backend {__import__('keras').backend.backend()}")
    print("| input | CTranslate2 (s/clip) | Keras (s/clip) | Keras / CTranslate2 |")
    print("|---|---|---|---|")
    for padded in (False, True):
        mels = [whisper.log_mel(clip, pad_to_30s=padded) for clip in clips]

        def ct2(mel):
            return reference.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(mel.T[None])))

        def keras_encoder(mel):
            return encoder.predict_on_batch(mel[None])

        baseline = per_clip_seconds(ct2, mels)
        ours = per_clip_seconds(keras_encoder, mels)
        label = "padded to 30 s" if padded else "unpadded"
        print(f"| {label} | {baseline:.3f} | {ours:.3f} | {ours / baseline:.2f}x |")

    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ravdess_tf", "predict", "--pretrained", "whisper", paths[0]],
                   check=True, capture_output=True)
    cold = time.perf_counter() - start
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ravdess_tf", "predict", "--pretrained", "logmel", paths[0]],
                   check=True, capture_output=True)
    print(f"\n`ravdess-tf predict --pretrained whisper` on one clip from a cold start: {cold:.1f} s "
          f"(the log-mel model: {time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
