"""The NumPy runtime with BLAS on one thread against BLAS on every core, on an idle CPU and on a busy one.

The bundled models answer in NumPy (ravdess_tf/runtime.py). OpenBLAS splits each of their many small
matrix products over every core; when another process already keeps the cores busy (a training run
in another terminal, as a student has while trying `ravdess-tf predict`), those threads wait on each
other. This times ``predict_audio`` on the same clips both ways, rounds interleaved in random order,
first with the CPU idle, then beside a process that keeps every core busy with matrix products;
the figure is the median of the per-round ratios (one thread / every core).

    python benchmarks/bench_runtime_threads.py [--clips 20] [--rounds 5] [--models logmel whisper]

The clips are RAVDESS clips under $RAVDESS_ROOT (actors 21-24, every third, as `ravdess-tf robustness`).
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import time

from threadpoolctl import threadpool_limits

#: A stand-in for a training run beside the prediction: matrix products on every core, forever.
BUSY = "import numpy as np\na = np.random.rand(1500, 1500)\nwhile True:\n    a @ a"


def seconds(predictor, recordings, threads) -> float:
    """Wall time of one ``predict_audio`` of every recording, BLAS limited to ``threads`` (None: no limit)."""
    with threadpool_limits(limits=threads, user_api="blas"):
        start = time.perf_counter()
        predictor.predict_audio(recordings)
        return time.perf_counter() - start


def compare(predictor, recordings, rounds) -> dict:
    times = {"every core": [], "one thread": []}
    for _ in range(rounds):
        order = list(times)
        random.shuffle(order)
        for name in order:
            times[name].append(seconds(predictor, recordings, None if name == "every core" else 1))
    ratios = [one / every for one, every in zip(times["one thread"], times["every core"])]
    return {name: statistics.median(values) for name, values in times.items()} | {"ratio": statistics.median(ratios)}


def main() -> None:
    import ravdess_tf as rt
    from ravdess_tf.audio import load_audio
    from ravdess_tf.robustness import bundled_model_clips

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--models", nargs="+", default=["logmel", "whisper"])
    args = parser.parse_args()

    paths = bundled_model_clips(rt.load_metadata())["path"][:args.clips]
    recordings = [load_audio(path, 16_000) for path in paths]
    predictors = {name: rt.load_pretrained(name, runtime="numpy") for name in args.models}
    for predictor in predictors.values():
        predictor.model.blas_threads = None  # its own limit lifted: each way is set here, around it all
        predictor.predict_audio(recordings[:2])  # warm-up: the encoder's weights, the mel basis
    print(f"{os.cpu_count()} cores; {len(recordings)} clips; {args.rounds} rounds, each way once per round "
          "in random order; seconds are medians")
    for load in ("idle", "busy"):
        busy = subprocess.Popen([sys.executable, "-c", BUSY]) if load == "busy" else None
        try:
            time.sleep(2 if busy else 0)  # let the busy process start its threads
            for name, predictor in predictors.items():
                result = compare(predictor, recordings, args.rounds)
                print(f"{load:5s} {name:8s} every core {result['every core']:6.2f} s   one thread "
                      f"{result['one thread']:6.2f} s   one thread / every core {result['ratio']:.2f}")
        finally:
            if busy:
                busy.kill()
                busy.wait()


if __name__ == "__main__":
    main()
