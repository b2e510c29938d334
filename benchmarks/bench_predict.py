"""Cold `ravdess-tf predict` of one file against a cold `python -c "import tensorflow"`.

Both are fresh processes, as a user runs them. They are interleaved in random order, pair by pair,
so that the machine's load falls on both alike; the figure is the median of the per-pair ratios.

    python benchmarks/bench_predict.py [--pairs 7] [--clip PATH] [--figure benchmarks/predict.png]

Without --clip it uses a RAVDESS clip under $RAVDESS_ROOT. The bundled models answer in NumPy
(ravdess_tf/runtime.py), so predict starts no Keras backend.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMMANDS = {
    "import tensorflow": [sys.executable, "-c", "import tensorflow"],
    "predict (default: Whisper head)": [sys.executable, "-m", "ravdess_tf", "predict", "CLIP"],
    "predict --pretrained logmel": [sys.executable, "-m", "ravdess_tf", "predict", "--pretrained", "logmel", "CLIP"],
}


def seconds(command) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=7)
    parser.add_argument("--clip", type=Path, default=None)
    parser.add_argument("--figure", type=Path, default=Path(__file__).with_name("predict.png"))
    args = parser.parse_args()
    clip = args.clip or next(Path(os.environ["RAVDESS_ROOT"]).rglob("03-01-05-02-01-01-22.*"))
    commands = {name: [str(clip) if part == "CLIP" else part for part in command] for name, command in COMMANDS.items()}
    for command in commands.values():  # warm the disk cache once
        seconds(command)
    times = {name: [] for name in commands}
    for _ in range(args.pairs):
        order = list(commands)
        random.shuffle(order)
        for name in order:
            times[name].append(seconds(commands[name]))
    baseline = times["import tensorflow"]
    print(f"{os.cpu_count()} cores; {args.pairs} rounds, each command once per round in random order")
    rows = []
    for name, values in times.items():
        ratio = statistics.median(v / b for v, b in zip(values, baseline))
        rows.append((name, statistics.median(values), ratio))
        print(f"{name:35s} median {statistics.median(values):6.2f} s   median ratio to import tensorflow {ratio:.2f}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ravdess_tf.plots import save_figure

    figure, ax = plt.subplots(figsize=(7, 2.8))
    ax.barh([r[0] for r in rows][::-1], [r[2] for r in rows][::-1], color=["0.6", "tab:blue", "tab:blue"][::-1])
    ax.axvline(0.35, color="tab:red", linestyle="--", label="target 0.35")
    ax.set_xlabel("cold time / cold `import tensorflow` (median of per-round ratios)")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(f"cold predict of one file, {os.cpu_count()} CPU cores")
    save_figure(figure, args.figure)
    print(f"wrote {args.figure}")


if __name__ == "__main__":
    main()
