"""A grid of confusion matrices: ``plots.plot_confusions`` against seaborn's ``heatmap``, in one run.

    python benchmarks/bench_plots.py [--panels 24] [--repeat 3]

Notebook 10 draws one row-normalised confusion matrix per configuration and protocol of the
committed study (53 panels on 2026-12-03) in one figure. Times, for the same synthetic predictions
(800 clips a panel, 8 classes):

1. baseline: the same grid through ``seaborn.heatmap`` (``annot=True``), as ``plot_confusion``
   drew it until 2026-12-03; seaborn draws the whole figure once per call to check its tick labels
   for overlap, so the cost grows with the square of the number of panels;
2. ``plots.plot_confusions`` (scikit-learn's ``ConfusionMatrixDisplay``).

Each measurement builds the figure and renders it once to PNG (as Jupyter does for its inline
output). ``--repeat`` alternates the two that many times and quotes the median of the ratios.
"""

import argparse
import io
import platform
import statistics
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from ravdess_tf import plots  # noqa: E402
from ravdess_tf.data import EMOTIONS  # noqa: E402
from ravdess_tf.evaluation import confusion  # noqa: E402

CLIPS_PER_PANEL = 800
COLUMNS = 4


class SyntheticResults:
    """Just what ``plot_confusions`` reads from a ``StudyResults``: ``pooled_predictions()``."""

    def __init__(self, panels: int, seed: int = 0):
        rng = np.random.default_rng(seed)
        self._pooled = {}
        for panel in range(panels):
            truth = rng.integers(0, len(EMOTIONS), CLIPS_PER_PANEL)
            guessed = np.where(rng.random(CLIPS_PER_PANEL) < 0.6, truth, rng.integers(0, len(EMOTIONS), CLIPS_PER_PANEL))
            self._pooled[(f"model {panel}", "actor")] = pd.DataFrame(
                {"emotion_id": truth, "predicted_id": guessed, "fold": 0, "seed": 0})

    def pooled_predictions(self):
        return self._pooled


def seaborn_grid(results):
    pooled = results.pooled_predictions()
    rows = -(-len(pooled) // COLUMNS)
    figure, axes = plt.subplots(rows, COLUMNS, figsize=(5 * COLUMNS, 4.3 * rows), squeeze=False)
    for ax, ((label, protocol), table) in zip(axes.flat, pooled.items()):
        sns.heatmap(confusion(table.emotion_id, table.predicted_id, normalize=True), annot=True, fmt=".2f",
                    cmap="Blues", cbar=False, xticklabels=EMOTIONS, yticklabels=EMOTIONS, vmin=0, vmax=1, ax=ax,
                    annot_kws={"size": 8})
        ax.set_title(f"{label}\n{protocol}")
    figure.tight_layout()
    return figure


def seconds(draw, results) -> float:
    start = time.perf_counter()
    figure = draw(results)
    figure.savefig(io.BytesIO(), format="png", dpi=72, bbox_inches="tight")
    plt.close(figure)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--panels", type=int, default=24, help="confusion matrices in the grid")
    parser.add_argument("--repeat", type=int, default=3, help="baseline / plot_confusions pairs")
    args = parser.parse_args()
    if args.panels < 1 or args.repeat < 1:
        parser.error("--panels and --repeat must be at least 1")

    results = SyntheticResults(args.panels)
    print(f"{platform.machine()}, Python {platform.python_version()}, matplotlib {matplotlib.__version__}, "
          f"seaborn {sns.__version__}; {args.panels} panels")
    pairs = [(seconds(seaborn_grid, results), seconds(plots.plot_confusions, results)) for _ in range(args.repeat)]
    for baseline, ours in pairs:
        print(f"seaborn heatmap grid {baseline:7.2f} s   plot_confusions {ours:6.2f} s   ratio {ours / baseline:.3f}")
    print(f"median plot_confusions / seaborn: {statistics.median(ours / base for base, ours in pairs):.3f}x")


if __name__ == "__main__":
    main()
