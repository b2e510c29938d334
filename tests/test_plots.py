"""The figures: each draws what its table says, on the Axes it is given."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ravdess_tf import plots  # noqa: E402
from ravdess_tf.data import EMOTIONS  # noqa: E402


def _cell_texts(ax) -> np.ndarray:
    """The annotations of a confusion matrix panel, as an 8 x 8 array of strings (rows: true class)."""
    texts = [t for t in ax.texts if t.get_text()]
    assert len(texts) == len(EMOTIONS) ** 2
    grid = np.empty((len(EMOTIONS), len(EMOTIONS)), dtype=object)
    for text in texts:
        column, row = np.rint(text.get_position()).astype(int)
        grid[row, column] = text.get_text()
    return grid


def test_confusion_annotates_each_cell_with_its_count_or_row_fraction():
    truth = [0, 0, 0, 0, 7, 7, 3]
    guessed = [0, 0, 0, 5, 7, 1, 3]
    counts = _cell_texts(plots.plot_confusion(truth, guessed).axes[0])
    assert counts[0, 0] == "3" and counts[0, 5] == "1" and counts[7, 1] == "1" and counts[2, 2] == "0"
    figure = plots.plot_confusion(truth, guessed, normalize=True, title="a title")
    ax = figure.axes[0]
    fractions = _cell_texts(ax)
    assert fractions[0, 0] == "0.75" and fractions[0, 5] == "0.25" and fractions[7, 7] == "0.50"
    assert [t.get_text() for t in ax.get_yticklabels()] == list(EMOTIONS)
    assert ax.get_title() == "a title" and ax.get_xlabel() == "predicted" and ax.get_ylabel() == "true"
    plt.close("all")


class _Pooled:
    def __init__(self, pooled):
        self._pooled = pooled

    def pooled_predictions(self):
        return self._pooled


def test_confusions_draw_one_panel_per_configuration_and_hide_the_spare_axes():
    run = pd.DataFrame({"emotion_id": [0, 1, 2], "predicted_id": [0, 1, 1], "fold": [0, 0, 1], "seed": 0})
    results = _Pooled({("lstm, logmel80", "paper"): run.iloc[:2], ("transformer, logmel80", "actor_cv"): run})
    figure = plots.plot_confusions(results, columns=3)
    drawn = [ax for ax in figure.axes if ax.axison]
    assert [ax.get_title() for ax in drawn] == ["lstm, logmel80\npaper, 1 run", "transformer, logmel80\nactor_cv, 2 runs"]
    assert _cell_texts(drawn[1])[2, 1] == "1.00"
    plt.close("all")
