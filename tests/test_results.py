"""Tests of ravdess_tf.results and the study's report, on synthetic run folders (no audio needed).

The synthetic study has two front-ends under one model name (a log-mel
``transformer`` and a ``transformer`` head on Whisper features), the case
that once merged two configurations into one bar.
"""

import json
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.container import BarContainer

from ravdess_tf.data import EMOTIONS
from ravdess_tf.evaluation import compute_metrics
from ravdess_tf.exceptions import ParameterError
from ravdess_tf.plots import plot_comparison
from ravdess_tf.results import (RUN_IDENTITY, configuration_labels, evaluate_run, load_results, run_file_name,
                                summarize, tidy_metrics)
from ravdess_tf.report import write_results
from ravdess_tf.splits import FOLD_PROTOCOLS, NUM_FOLDS

matplotlib.use("Agg")

REPOSITORY = Path(__file__).resolve().parents[1]
#: (preset, model, features, protocol, fold, fraction of clips predicted right)
SYNTHETIC_RUNS = [
    ("full", "transformer", "logmel80", "actor", "test", 0.50),
    ("full", "transformer", "logmel80", "actor_cv", 0, 0.45),
    ("full", "transformer", "logmel80", "actor_cv", 1, 0.55),
    ("full", "lstm", "logmel80", "actor", "test", 0.40),
    ("whisper", "transformer", "whisper-base-L2+3+4", "actor", "test", 0.75),
    ("whisper", "transformer", "whisper-base-L2+3+4", "actor_cv", 0, 0.70),
    ("whisper", "transformer", "whisper-base-L2+3+4", "actor_cv", 1, 0.80),
    ("whisper", "pooled", "whisper-base-L2+3+4", "actor", "test", 0.78),
]


def _predictions(rng, actors, right_fraction):
    """A predictions_test.csv table: 8 clips of each emotion per actor, a given fraction predicted right."""
    emotion_id = np.tile(np.arange(len(EMOTIONS)), 8 * len(actors))
    actor = np.repeat(actors, 8 * len(EMOTIONS))
    predicted = emotion_id.copy()
    wrong = rng.random(len(emotion_id)) >= right_fraction
    predicted[wrong] = (emotion_id[wrong] + rng.integers(1, len(EMOTIONS), wrong.sum())) % len(EMOTIONS)
    table = pd.DataFrame({
        "clip_id": [f"03-01-{e + 1:02d}-01-01-{i % 2 + 1:02d}-{a:02d}-{i}" for i, (e, a) in enumerate(zip(emotion_id, actor))],
        "actor": actor, "gender": np.where(actor % 2, "male", "female"),
        "emotion": [EMOTIONS[e] for e in emotion_id], "emotion_id": emotion_id,
        "intensity": np.where(np.arange(len(actor)) % 2, "strong", "normal"),
        "predicted_id": predicted, "predicted": [EMOTIONS[p] for p in predicted]})
    for index, emotion in enumerate(EMOTIONS):
        table[f"p_{emotion}"] = (predicted == index).astype(float)
    return table


def make_runs(runs_dir: Path, runs=SYNTHETIC_RUNS) -> Path:
    """Write finished run folders as ``ravdess_tf.training.train`` does (metrics, predictions, history)."""
    rng = np.random.default_rng(0)
    for preset, model, features, protocol, fold, right in runs:
        run_dir = runs_dir / preset / run_file_name(model, protocol, fold)
        run_dir.mkdir(parents=True)
        actors = [21, 22, 23, 24] if fold == "test" else [1 + 4 * fold, 2 + 4 * fold, 3 + 4 * fold, 4 + 4 * fold]
        table = _predictions(rng, actors, right)
        table.to_csv(run_dir / "predictions_test.csv", index=False)
        pd.DataFrame({"epoch": [0, 1], "loss": [2.0, 1.5], "accuracy": [0.2, 0.4], "val_loss": [2.0, 1.7],
                      "val_macro_f1": [0.2, 0.3]}).to_csv(run_dir / "history.csv", index=False)
        (run_dir / "metrics.json").write_text(json.dumps({
            "model": model, "protocol": protocol, "fold": fold, "preset": preset, "backend": "tensorflow",
            "features": features, "device": "cpu:2 cores x86_64", "seed": 0, "epochs": 2, "best_epoch": 2,
            "train_seconds": 10.0, "parameters": 1000,
            "test": compute_metrics(table.emotion_id, table.predicted_id)}))
    return runs_dir


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """A written synthetic study: (results folder, figures folder, what write_results returned)."""
    root = tmp_path_factory.mktemp("study")
    runs_dir = make_runs(root / "runs")
    written = write_results(runs_dir, "full", root / "results", root / "figures", extra_presets=["whisper"])
    return root / "results", root / "figures", written


def test_two_front_ends_under_one_model_name_stay_apart(study):
    results_dir, _, _ = study
    comparison = load_results(results_dir).comparison().set_index(["label", "protocol"])
    logmel = comparison.loc[("transformer, logmel80", "actor_cv")]
    whisper = comparison.loc[("transformer, whisper-base-L2+3+4", "actor_cv")]
    metrics = pd.read_csv(results_dir / "metrics.csv")
    def cv_mean(features):
        rows = metrics[(metrics.model == "transformer") & (metrics.features == features) & (metrics.protocol == "actor_cv")]
        assert len(rows) == 2
        return rows.f1_macro.mean()
    assert logmel.f1_macro == pytest.approx(cv_mean("logmel80"))
    assert whisper.f1_macro == pytest.approx(cv_mean("whisper-base-L2+3+4"))
    assert whisper.f1_macro > logmel.f1_macro + 0.1
    assert (logmel.runs, whisper.runs) == (2, 2)
    # The study's Table 2 stands beside its own kind of input only.
    assert logmel.paper_f1 == pytest.approx(0.874) and np.isnan(whisper.paper_f1)


def test_comparison_figure_bars_equal_the_table(study):
    results_dir, _, _ = study
    comparison = load_results(results_dir).comparison()
    figure = plot_comparison(comparison)
    ax = figure.axes[0]
    ticks = [label.get_text() for label in ax.get_xticklabels()]
    expected = comparison.set_index(["label", "protocol"])["f1_macro"]
    bars_checked = 0
    for container in (c for c in ax.containers if isinstance(c, BarContainer)):
        protocol = container.get_label()
        for tick, bar in zip(ticks, container.patches):
            if protocol == "the study's reported F1":
                reported = comparison[comparison.label == tick].paper_f1.dropna()
                assert (np.isnan(bar.get_height()) if reported.empty
                        else bar.get_height() == pytest.approx(reported.iloc[0]))
            elif (tick, protocol) in expected.index:
                assert bar.get_height() == pytest.approx(expected[(tick, protocol)])
                bars_checked += 1
            else:
                assert np.isnan(bar.get_height())
    assert bars_checked == len(comparison)
    # The synthetic CV rows have two folds of six: each bar says so; complete ones would say nothing.
    partial = comparison[comparison.protocol.isin(FOLD_PROTOCOLS) & (comparison.folds < NUM_FOLDS)]
    assert len(partial) > 0
    assert sorted(text.get_text() for text in ax.texts) == sorted(f"{folds}/{NUM_FOLDS}" for folds in partial.folds)


def test_partial_cross_validation_counts_folds_not_seeds():
    """Three folds run with two seeds each is six runs but half a cross-validation."""
    runs = pd.DataFrame([{"preset": "full", "model": "lstm", "features": "logmel80", "protocol": "actor_cv",
                          "fold": str(fold), "seed": seed, "accuracy": 0.5, "precision_macro": 0.5,
                          "recall_macro": 0.5, "f1_macro": 0.4 + 0.01 * fold + 0.02 * seed}
                         for fold in range(3) for seed in range(2)])
    comparison = summarize(runs)
    assert comparison[["runs", "folds"]].values.tolist() == [[6, 3]]
    ax = plot_comparison(comparison).axes[0]
    assert [text.get_text() for text in ax.texts] == [f"3/{NUM_FOLDS}"]
    assert "only n folds run so far" in ax.get_title()


def test_metrics_name_each_runs_predictions(study):
    results_dir, _, _ = study
    results = load_results(results_dir)
    assert len(results.metrics) == len(SYNTHETIC_RUNS)
    for row in results.metrics.itertuples():
        table = pd.read_csv(results_dir / row.predictions)
        assert compute_metrics(table.emotion_id, table.predicted_id)["f1_macro"] == pytest.approx(row.f1_macro, abs=1e-4)
    predictions = results.predictions()
    assert set(predictions.columns) >= {*RUN_IDENTITY, "label", "clip_id", "predicted_id"}
    pooled = results.pooled_predictions()
    assert set(pooled) == set(zip(results.metrics.label, results.metrics.protocol))
    # actor_cv pools its folds: 2 folds x 4 actors x 64 clips
    assert len(pooled[("transformer, whisper-base-L2+3+4", "actor_cv")]) == 2 * 4 * 64


def test_report_files_are_keyed_by_configuration(study):
    results_dir, figures_dir, written = study
    per_class = pd.read_csv(results_dir / "per_class_f1.csv")
    assert set(per_class.label) == {"transformer, logmel80", "lstm, logmel80", "transformer, whisper-base-L2+3+4",
                                    "pooled, whisper-base-L2+3+4"}
    assert len(per_class) == len(EMOTIONS) * len(summarize(pd.read_csv(results_dir / "metrics.csv")))
    breakdown = pd.read_csv(results_dir / "breakdown.csv")
    assert set(breakdown.preset) == {"full", "whisper"} and set(breakdown.by) == {"intensity", "gender"}
    assert (figures_dir / "confusion_full_transformer_logmel80_actor_cv_normalised.png").is_file()
    assert (figures_dir / "confusion_whisper_transformer_whisper-base-L2-3-4_actor_cv_normalised.png").is_file()
    assert (figures_dir / "history_whisper_transformer_whisper-base-L2-3-4_actor_cv.png").is_file()
    readme = (results_dir / "README.md").read_text()
    assert "| whisper | transformer | whisper-base-L2+3+4 | actor_cv | 2 |" in readme
    assert all(Path(path).is_file() for path in written.values())


def test_mcnemar_pairs_configurations_on_the_same_clips(study):
    results_dir, _, _ = study
    tests = load_results(results_dir).mcnemar_tests()
    actor = tests[tests.protocol == "actor"]
    assert len(actor) == 6  # 4 configurations tested on actors 21-24: every pair
    assert set(tests.protocol) == {"actor", "actor_cv"}
    intervals = load_results(results_dir).bootstrap_intervals(n_resamples=50)
    assert (intervals.low <= intervals.f1_macro).all() and (intervals.f1_macro <= intervals.high).all()


def test_labels_add_the_preset_only_when_needed():
    table = pd.DataFrame({"preset": ["quick", "full", "whisper"], "model": ["lstm", "lstm", "lstm"],
                          "features": ["logmel80", "logmel80", "whisper-base-L2+3+4"]})
    assert list(configuration_labels(table)) == ["lstm, logmel80, quick", "lstm, logmel80, full",
                                                 "lstm, whisper-base-L2+3+4"]


def test_identity_is_checked():
    rows = pd.DataFrame({"preset": ["full"] * 2, "model": ["lstm"] * 2, "features": ["logmel80"] * 2,
                         "protocol": ["actor"] * 2, "fold": ["test"] * 2, "seed": [0, 0]})
    with pytest.raises(ParameterError, match="two runs share one identity"):
        tidy_metrics(rows)
    with pytest.raises(ParameterError, match="no column preset"):
        tidy_metrics(rows.drop(columns="preset"))
    assert len(tidy_metrics(rows.assign(seed=[0, 1]))) == 2


def test_run_file_names():
    assert run_file_name("lstm", "actor", "test") == "lstm-actor"
    assert run_file_name("lstm", "actor_cv", "3") == "lstm-actor_cv-fold3"
    assert run_file_name("lstm", "paper", None, seed=2) == "lstm-paper-seed2"


def test_evaluate_run(tmp_path):
    run_dir = make_runs(tmp_path, SYNTHETIC_RUNS[:1]) / "full" / "transformer-actor"
    report = evaluate_run(run_dir)
    table = pd.read_csv(run_dir / "predictions_test.csv")
    assert report.metrics.f1_macro.iloc[0] == pytest.approx(compute_metrics(table.emotion_id, table.predicted_id)["f1_macro"])
    assert list(report.breakdowns) == ["intensity", "gender", "actor"] and report.clips == len(table)
    assert (run_dir / "figures" / "confusion_test_normalised.png").is_file()
    assert (run_dir / "figures" / "history.png").is_file()
    with pytest.raises(ParameterError, match="no predictions_validation.csv"):
        evaluate_run(run_dir, "validation")


def test_committed_results_agree_with_their_predictions():
    """Every row of results/full/metrics.csv is what its own predictions file scores."""
    results = load_results(REPOSITORY / "results" / "full")
    for row in results.metrics.itertuples():
        table = pd.read_csv(results.folder / row.predictions)
        metrics = compute_metrics(table.emotion_id, table.predicted_id)
        assert metrics["f1_macro"] == pytest.approx(row.f1_macro, abs=1e-4), row.predictions
        assert metrics["accuracy"] == pytest.approx(row.accuracy, abs=1e-4), row.predictions
    comparison = pd.read_csv(results.folder / "comparison.csv")
    assert list(comparison.label) == list(results.comparison().label)
    assert np.allclose(comparison.f1_macro, results.comparison().f1_macro)


def readme_table(header_start: str, document: str = "README.md") -> list[list[str]]:
    """The cells of the Markdown table whose header row starts with ``header_start``, in ``document``
    (a path from the repository's root)."""
    lines = (REPOSITORY / document).read_text().splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 2:]:  # past the header and its |---| row
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_readme_results_table_matches_comparison_csv():
    """Every number in README's at-a-glance table is the committed comparison's; every "not run" is absent from it."""
    comparison = pd.read_csv(REPOSITORY / "results" / "full" / "comparison.csv")
    comparison = comparison[comparison.preset == "full"].set_index(["model", "features", "protocol"])
    rows = readme_table("| model | features | paper split |")
    assert [row[0] for row in rows] == ["alexnet", "resnet50", "inception_v3", "vgg16", "vgg19", "lstm",
                                        "transformer", "svm"]
    for model, features, *cells, paper_f1 in rows:
        features = features.strip("`")
        for protocol, cell in zip(("paper", "actor", "actor_cv"), cells):
            key = (model, features, protocol)
            if cell == "not run":
                assert key not in comparison.index, key
                continue
            row = comparison.loc[key]
            numbers = [float(word) for word in cell.replace("(", " ").replace(",", " ").split()
                       if word.replace(".", "", 1).isdigit()]
            assert numbers[0] == pytest.approx(row.f1_macro, abs=6e-4), key  # 4 decimals shown as 3
            if protocol == "actor_cv":
                assert numbers[1:] == [pytest.approx(row.f1_macro_std, abs=6e-4), row.folds], key
        if paper_f1:
            assert float(paper_f1) == pytest.approx(comparison.loc[(model, features, "paper")].paper_f1), model


def test_ablation_standing_table_matches_comparison_csv_and_marks_every_miss():
    """results/ablation.md's "where each architecture stands" quotes each network's current row of the
    committed comparison, and a number is in bold exactly when it misses a target: below the SVM's row of
    its protocol, below 0.72 on the paper split or 0.45 on the actor split, below 0.60 over the folds."""
    comparison = pd.read_csv(REPOSITORY / "results" / "full" / "comparison.csv")
    comparison = comparison[comparison.preset == "full"].set_index(["model", "features", "protocol"])
    current = {row[0]: row[1].strip("`") for row in readme_table("| model | features | paper split |")}
    targets = {"paper": 0.72, "actor": 0.45, "actor_cv": 0.60}
    rows = readme_table("| model | paper split | actor split | 6-fold actor CV |", "results/ablation.md")
    assert [row[0] for row in rows] == [model for model in current if model != "svm"]
    for model, *cells, _tried in rows:
        for protocol, cell in zip(("paper", "actor", "actor_cv"), cells):
            key = (model, current[model], protocol)
            if cell == "not run":
                assert key not in comparison.index, key
                continue
            score = comparison.loc[key].f1_macro
            assert float(cell.strip("*")) == pytest.approx(score, abs=6e-4), key
            svm = comparison.loc[("svm", current["svm"], protocol)].f1_macro
            assert cell.startswith("**") == (score < max(targets[protocol], svm)), key


def committed_study_folds():
    """Test macro-F1 of the committed study's six-fold rows on the current front-end (level-normalised
    log-mel), fold by fold, grouped by model and features."""
    metrics = pd.read_csv(REPOSITORY / "results" / "full" / "metrics.csv")
    folds = metrics[(metrics.preset == "full") & (metrics.protocol == "actor_cv")
                    & metrics.features.str.startswith("logmel80+level")]
    return folds.sort_values("fold").groupby(["model", "features"]).f1_macro


def test_ablation_quotes_the_study_folds_it_compares_against():
    """results/ablation.md sets its levers beside the study's six-fold rows, copied by hand: every row of the
    current front-end is quoted there, each fold and the mean (sd), as committed."""
    text = (REPOSITORY / "results" / "ablation.md").read_text()
    ablation = " ".join(text.replace("**", " ").replace("|", " ").split())  # bold and table cells as plain words
    groups = committed_study_folds()
    assert len(groups) >= 6
    for key, scores in groups:
        assert len(scores) == NUM_FOLDS, key
        assert " ".join(f"{score:.3f}" for score in scores) in ablation, key
        assert f"{scores.mean():.3f} ({scores.std():.3f})" in ablation, key


def _lever_table_rows(markdown: str) -> dict[str, list[str]]:
    """The rows of a results/ablation.md lever table, by lever name: the cells after the name."""
    rows = {}
    for line in markdown.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 6 and cells[-1].endswith(" min"):
            rows[cells[0].replace("**", "").split(" ")[0]] = cells[1:]
    return rows


def test_ablation_tables_quote_every_lever_of_ablation_csv():
    """Every model and lever of results/ablation.csv has its row in results/ablation.md: mean validation
    and test macro-F1, the sd over folds, mean test accuracy and each fold's test score, as the csv's
    rounded values give them (to 0.001: the table was written from the runs' unrounded scores)."""
    text = (REPOSITORY / "results" / "ablation.md").read_text()
    tables = {"transformer": _lever_table_rows(text[:text.index("## The LSTM")]),
              "lstm": _lever_table_rows(text[text.index("## The LSTM"):text.index("## Ensembles")])}
    ablation = pd.read_csv(REPOSITORY / "results" / "ablation.csv")
    for (model, lever), runs in ablation.groupby(["model", "lever"]):
        runs = runs.sort_values("fold")
        assert list(runs.fold) == list(range(NUM_FOLDS)), (model, lever)
        row = tables[model].get(lever)
        assert row is not None, f"results/ablation.md has no row for {model} {lever}"
        validation, test, accuracy, folds = row[-5], row[-4], row[-3], row[-2]
        test_mean, test_sd = test.replace("**", "").replace("(", "").replace(")", "").split()
        quoted = [validation, test_mean, test_sd, accuracy, *folds.split()]
        expected = [runs.val_f1_macro.mean(), runs.test_f1_macro.mean(), runs.test_f1_macro.std(),
                    runs.test_accuracy.mean(), *runs.test_f1_macro]
        assert len(quoted) == len(expected), (model, lever, row)
        for number, value in zip(quoted, expected):
            assert abs(float(number.replace("**", "")) - value) <= 0.001 + 1e-9, (model, lever, number, value)


def test_lever_predictions_score_what_ablation_csv_says():
    """Every fold's predictions kept in results/levers for a lever of results/ablation.csv scores, on its
    validation and test actors, the macro-F1 (and test accuracy) of its row there, and all six are kept.
    (recipe_levers.py writes a lever's rows once its six folds are done: the folds of a lever still
    training are kept without them, and levers run before predictions were kept have none.)"""
    kept_dir = REPOSITORY / "results" / "levers"
    ablation = pd.read_csv(REPOSITORY / "results" / "ablation.csv").sort_values(["model", "lever", "fold"])
    checked = 0
    for (model, lever), rows in ablation.groupby(["model", "lever"]):
        folders = [kept_dir / lever / run_file_name(model, "actor_cv", fold) for fold in rows.fold]
        if not any(folder.is_dir() for folder in folders):
            continue
        assert list(rows.fold) == list(range(NUM_FOLDS)), (model, lever)
        for folder, row in zip(folders, rows.itertuples()):
            validation, test = (pd.read_csv(folder / f"predictions_{part}.csv") for part in ("validation", "test"))
            assert set(validation.actor).isdisjoint(test.actor), folder
            scored = {"val_f1_macro": compute_metrics(validation.emotion_id, validation.predicted_id)["f1_macro"],
                      **{f"test_{name}": value for name, value in
                         compute_metrics(test.emotion_id, test.predicted_id).items()}}
            for column in ("val_f1_macro", "test_f1_macro", "test_accuracy"):
                assert scored[column] == pytest.approx(getattr(row, column), abs=5e-5), (folder, column)
            checked += 1
    assert checked, "results/levers keeps no finished lever's predictions"


def test_warmup_run_records_agree_with_their_predictions_and_ablation_md():
    """The transformer's paper and actor runs with the five-epoch warm-up, kept as records in
    results/warmup_five_epochs: each scores what its metrics.json says, and ablation.md quotes it."""
    ablation = " ".join((REPOSITORY / "results" / "ablation.md").read_text().replace("**", "").split())
    records = sorted((REPOSITORY / "results" / "warmup_five_epochs").glob("transformer-*/metrics.json"))
    assert [path.parent.name for path in records] == ["transformer-actor", "transformer-paper"]
    for path in records:
        result = json.loads(path.read_text())
        assert json.loads((path.parent / "config.json").read_text())["train"]["warmup_epochs"] == 5
        for part in ("validation", "test"):
            table = pd.read_csv(path.parent / f"predictions_{part}.csv")
            scored = compute_metrics(table.emotion_id, table.predicted_id)
            assert scored["f1_macro"] == pytest.approx(result[part]["f1_macro"], abs=1e-9), (path, part)
        assert f"test {result['test']['f1_macro']:.3f} (accuracy {result['test']['accuracy']:.3f})" in ablation
        assert f"validation macro-F1 {result['validation']['f1_macro']:.3f}" in ablation or \
            f"validation {result['validation']['f1_macro']:.3f}" in ablation


def test_backend_check_quotes_resnet50s_study_folds():
    """results/backend_check/README.md copies ResNet50's six CPU folds, the study's row, by hand."""
    scores = committed_study_folds().get_group(("resnet50", "logmel80+level+copies"))
    assert len(scores) == NUM_FOLDS
    row = " | ".join(f"{score:.3f}" for score in scores) + f" | **{scores.mean():.3f} ({scores.std():.3f})** |"
    assert f"| the 2-core CPU under TensorFlow | {row}" in (REPOSITORY / "results" / "backend_check" /
                                                            "README.md").read_text()


def test_report_study_puts_whisper_runs_in_the_full_tables(tmp_path):
    from ravdess_tf.report import report_study

    runs_dir = make_runs(tmp_path / "runs")
    report = report_study(runs_dir, "whisper", results_dir=tmp_path / "results", figures_dir=tmp_path / "figures")
    metrics = pd.read_csv(report.results_dir / "metrics.csv")
    assert set(metrics.preset) == {"full", "whisper"}
    assert "# Results: preset `full`" in (report.results_dir / "README.md").read_text()
    assert report.figure_count == len(list((tmp_path / "figures").glob("*.png")))


def test_results_of_runs_not_at_hand_are_kept(tmp_path):
    """Writing the results of some runs keeps the rows of others already in the folder."""
    first = make_runs(tmp_path / "first", SYNTHETIC_RUNS[:2])
    write_results(first, "full", tmp_path / "results", tmp_path / "figures")
    second = make_runs(tmp_path / "second", SYNTHETIC_RUNS[1:4])
    write_results(second, "full", tmp_path / "results", tmp_path / "figures")
    metrics = load_results(tmp_path / "results").metrics
    assert len(metrics) == 4  # runs 0..3, run 1 written twice, kept once
    assert not metrics.duplicated(list(RUN_IDENTITY)).any()


def test_a_new_front_end_does_not_overwrite_an_older_runs_predictions(tmp_path):
    """The same model, protocol and fold under one preset, from two front-ends: both kept, each its own file."""
    from ravdess_tf.report import collect_runs, export_runs

    old = make_runs(tmp_path / "old", [("full", "transformer", "logmel80", "actor_cv", 0, 0.45)])
    new = make_runs(tmp_path / "new", [("full", "transformer", "logmel80+level", "actor_cv", 0, 0.60)])
    export_runs(collect_runs(old, "full"), tmp_path / "results")
    export_runs(collect_runs(new, "full"), tmp_path / "results")
    results = load_results(tmp_path / "results")
    assert sorted(results.metrics.features) == ["logmel80", "logmel80+level"]
    assert results.metrics.predictions.nunique() == 2
    for row in results.metrics.itertuples():
        table = pd.read_csv(tmp_path / "results" / row.predictions)
        assert compute_metrics(table.emotion_id, table.predicted_id)["f1_macro"] == pytest.approx(row.f1_macro, abs=1e-4)
