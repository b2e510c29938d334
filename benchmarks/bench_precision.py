"""Training speed under ``mixed_bfloat16`` against float32, per model, at the ``full`` preset's shapes.

    python benchmarks/bench_precision.py [--models alexnet transformer lstm] [--steps 8] [--repeats 3]

For each model, builds the ``full`` preset's network (its feature shape and model options) once per
precision and times ``steps`` optimiser steps (``train_on_batch`` on batches of the preset's size,
AdamW, after two warm-up steps that trace and allocate). The two precisions alternate ``repeats``
times, so that a burst of load from other work on the machine spoils one pair, not the figure; the
median of the per-pair ratios is what to quote. Random inputs: the time of a step does not depend on
the values. Whether the accuracy matches is another question, answered by training runs
(``results/ablation.md``, "Mixed precision").
"""

import argparse
import platform
import statistics
import time

import keras
import numpy as np

from ravdess_tf.data import EMOTIONS
from ravdess_tf.models import build_model
from ravdess_tf.training import describe_device, preset_config

#: The precisions compared (of ravdess_tf.training.PRECISIONS); the first is the baseline of every ratio.
COMPARED_PRECISIONS = ("float32", "mixed_bfloat16")


def processor_name() -> str:
    """The CPU's model name (``platform.processor()`` is empty on Linux)."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            return next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown processor"


def seconds_per_step(model_name: str, precision: str, steps: int, seed: int = 0) -> float:
    """Mean wall-clock seconds of one optimiser step of the ``full`` preset's ``model_name``."""
    config = preset_config("full", model_name)
    shape = (*config.feature_config().shape, 1)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(config.batch_size, *shape)).astype("float32")
    y = rng.integers(0, len(EMOTIONS), size=config.batch_size)
    keras.config.set_dtype_policy(precision)
    try:
        model = build_model(model_name, shape, len(EMOTIONS), **config.model_options)
        model.compile(optimizer=keras.optimizers.AdamW(config.learning_rate), loss="sparse_categorical_crossentropy")
        for _ in range(2):  # warm-up: tracing and allocation
            model.train_on_batch(x, y)
        start = time.perf_counter()
        for _ in range(steps):
            model.train_on_batch(x, y)
        return (time.perf_counter() - start) / steps
    finally:
        keras.config.set_dtype_policy("float32")
        keras.backend.clear_session()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["alexnet", "transformer", "lstm"])
    parser.add_argument("--steps", type=int, default=8, help="timed optimiser steps per measurement")
    parser.add_argument("--repeats", type=int, default=3, help="float32 / mixed_bfloat16 pairs per model")
    args = parser.parse_args()

    print(f"{describe_device()} ({processor_name()}), "
          f"Keras {keras.__version__} ({keras.backend.backend()} backend)")
    print("| model | float32 s/step (each pair) | mixed_bfloat16 s/step | bf16 / float32, each pair | median |")
    print("|---|---|---|---|---|")
    for name in args.models:
        times = {precision: [] for precision in COMPARED_PRECISIONS}
        for _ in range(args.repeats):
            for precision in COMPARED_PRECISIONS:
                times[precision].append(seconds_per_step(name, precision, args.steps))
        ratios = [low / full for full, low in zip(*times.values())]
        print(f"| {name} | {', '.join(f'{t:.3f}' for t in times['float32'])} "
              f"| {', '.join(f'{t:.3f}' for t in times['mixed_bfloat16'])} "
              f"| {', '.join(f'{r:.2f}' for r in ratios)} | **{statistics.median(ratios):.2f}x** |", flush=True)


if __name__ == "__main__":
    main()
