import numpy as np
import pandas as pd
import pytest

from ravdess_tf import evaluation
from ravdess_tf.exceptions import ParameterError


def test_compute_metrics_hand_computed():
    # class 0: precision 1, recall 1/2, F1 2/3; class 1: precision 2/3, recall 1, F1 4/5
    metrics = evaluation.compute_metrics([0, 0, 1, 1], [0, 1, 1, 1])
    assert metrics["accuracy"] == pytest.approx(0.75)
    assert metrics["precision_macro"] == pytest.approx((1 + 2 / 3) / 2)
    assert metrics["recall_macro"] == pytest.approx((0.5 + 1) / 2)
    assert metrics["f1_macro"] == pytest.approx((2 / 3 + 4 / 5) / 2)
    assert metrics["f1_weighted"] == pytest.approx((2 / 3 + 4 / 5) / 2)  # equal supports


def test_weighted_differs_from_macro_with_imbalance():
    # three of class 0, one of class 1, all predicted 0
    metrics = evaluation.compute_metrics([0, 0, 0, 1], [0, 0, 0, 0])
    f1_class0 = 2 * 0.75 * 1 / 1.75
    assert metrics["f1_macro"] == pytest.approx(f1_class0 / 2)
    assert metrics["f1_weighted"] == pytest.approx(0.75 * f1_class0)
    assert metrics["precision_macro"] == pytest.approx(0.75 / 2)  # class 1 never predicted: 0


def test_absent_class_predicted_counts_against():
    metrics = evaluation.compute_metrics([1, 1], [1, 0])
    assert metrics["f1_macro"] == pytest.approx((0 + 2 / 3) / 2)


def test_confusion_and_report():
    y_true, y_pred = [0, 0, 1, 7], [0, 1, 1, 7]
    counts = evaluation.confusion(y_true, y_pred)
    assert counts.shape == (8, 8) and counts[0, 0] == 1 and counts[0, 1] == 1 and counts.sum() == 4
    rows = evaluation.confusion(y_true, y_pred, normalize=True)
    assert rows[0].tolist()[:2] == [0.5, 0.5]
    report = evaluation.per_class_report(y_true, y_pred)
    assert list(report.index)[:2] == ["neutral", "calm"]
    assert report.loc["calm", "recall"] == 1.0 and report.loc["calm", "precision"] == 0.5


def test_breakdown_by_group():
    predictions = pd.DataFrame({"emotion_id": [0, 1, 1, 2], "predicted_id": [0, 1, 2, 2],
                                "gender": ["male", "male", "female", "female"]})
    table = evaluation.breakdown(predictions, "gender").set_index("gender")
    assert table.loc["male", "accuracy"] == 1.0 and table.loc["female", "accuracy"] == 0.5
    assert table["clips"].tolist() == [2, 2]
    with pytest.raises(ParameterError, match="no column 'actor'"):
        evaluation.breakdown(predictions, "actor")


def test_bad_labels():
    with pytest.raises(ParameterError, match="same length"):
        evaluation.compute_metrics([0, 1], [0])
    with pytest.raises(ParameterError, match="empty"):
        evaluation.compute_metrics([], [])


def test_paper_table_matches_reference():
    from pathlib import Path

    reference = Path(__file__).resolve().parents[2] / "shared" / "reference" / "table2.csv"
    if not reference.is_file():
        pytest.skip("../shared/reference/table2.csv is not here")
    assert evaluation.PAPER_TABLE2.equals(pd.read_csv(reference))


def test_mcnemar_exact():
    a = np.array([True] * 10 + [False] * 2)
    b = np.array([False] * 10 + [True] * 2)
    result = evaluation.mcnemar(a, b)
    assert (result["only_a"], result["only_b"]) == (10, 2)
    from scipy.stats import binom
    assert result["p_value"] == pytest.approx(2 * binom.cdf(2, 12, 0.5))
    assert evaluation.mcnemar(a, a)["p_value"] == 1.0
    with pytest.raises(ParameterError, match="same clips"):
        evaluation.mcnemar(a, a[:3])


def test_bootstrap_interval_brackets_the_estimate():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 8, 300)
    y_pred = np.where(rng.random(300) < 0.6, y_true, rng.integers(0, 8, 300))
    low, high = evaluation.bootstrap_interval(y_true, y_pred, "accuracy", n_resamples=300)
    estimate = evaluation.compute_metrics(y_true, y_pred)["accuracy"]
    assert low < estimate < high and high - low < 0.2
    with pytest.raises(ParameterError, match="metric must be one of"):
        evaluation.bootstrap_interval(y_true, y_pred, "auc")


def test_metrics_of_confusions_equal_scikit_learn_on_each_matrix():
    """The bootstrap's array arithmetic gives compute_metrics' values, absent and never-predicted classes too."""
    rng = np.random.default_rng(3)
    cases = [(rng.integers(0, 8, 50), rng.integers(0, 8, 50)),
             (rng.integers(1, 6, 30), rng.integers(0, 4, 30)),  # classes 0 and 6, 7: absent or only predicted
             (np.array([2, 2, 5]), np.array([2, 2, 2]))]         # class 5 never predicted
    counts = np.stack([evaluation.confusion(y_true, y_pred) for y_true, y_pred in cases])
    stacked = evaluation.metrics_of_confusions(counts)
    assert set(stacked) == set(evaluation.METRIC_NAMES)
    for index, (y_true, y_pred) in enumerate(cases):
        expected = evaluation.compute_metrics(y_true, y_pred)
        for name in evaluation.METRIC_NAMES:
            assert stacked[name][index] == pytest.approx(expected[name], abs=1e-12), (index, name)


def test_bootstrap_interval_rejects_a_bad_count_or_confidence():
    y = np.array([0, 1, 1, 0])
    with pytest.raises(ParameterError, match="n_resamples must be"):
        evaluation.bootstrap_interval(y, y, n_resamples=0)
    with pytest.raises(ParameterError, match="n_resamples must be"):
        evaluation.bootstrap_interval(y, y, n_resamples=2.5)
    with pytest.raises(ParameterError, match="confidence must be"):
        evaluation.bootstrap_interval(y, y, confidence=95)


def _predictions(clip_ids, labels, probabilities):
    table = pd.DataFrame({"clip_id": clip_ids, "emotion_id": labels})
    for index, emotion in enumerate(evaluation.EMOTIONS):
        table[f"p_{emotion}"] = np.asarray(probabilities)[:, index]
    return table


def test_average_predictions_votes_softly_and_aligns_clips():
    one_hot = np.eye(8)
    # Model a: clip x sad (confident), clip y calm (barely); model b: x angry (barely), y happy (confident).
    a = _predictions(["x", "y"], [3, 2], [0.9 * one_hot[3] + 0.1 * one_hot[4], 0.55 * one_hot[1] + 0.45 * one_hot[2]])
    b = _predictions(["y", "x"], [2, 3], [0.9 * one_hot[2] + 0.1 * one_hot[1], 0.6 * one_hot[4] + 0.4 * one_hot[3]])
    ensemble = evaluation.average_predictions([a, b])
    assert list(ensemble["clip_id"]) == ["x", "y"]
    assert list(ensemble["predicted"]) == ["sad", "happy"]      # neither model alone gets both right
    np.testing.assert_allclose(ensemble[[f"p_{e}" for e in evaluation.EMOTIONS]].sum(axis=1), 1.0)
    assert ensemble.loc[0, "p_sad"] == pytest.approx(0.65)


def test_average_predictions_refuses_mismatched_tables():
    table = _predictions(["x", "y"], [0, 1], np.full((2, 8), 1 / 8))
    with pytest.raises(ParameterError, match="two or more"):
        evaluation.average_predictions([table])
    with pytest.raises(ParameterError, match="other clips"):
        evaluation.average_predictions([table, table.iloc[:1]])
    with pytest.raises(ParameterError, match="labels some clips differently"):
        evaluation.average_predictions([table, table.assign(emotion_id=[1, 0])])
    with pytest.raises(ParameterError, match="lacks the columns"):
        evaluation.average_predictions([table, table.drop(columns="p_calm")])
