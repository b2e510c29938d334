"""One soft-voting ensemble of the study's own actor-CV runs, scored on each fold's test actors.

The study keeps every run's test predictions (``results/full/predictions``), not its validation
predictions, so no ensemble can be *chosen* here: the members are named in advance and the one
ensemble they make is scored, with each member alone beside it. (Ensembles chosen on validation
actors, from the lever runs that kept both: ``scripts/ensemble_levers.py``.)

    python scripts/ensemble_study.py --models alexnet transformer lstm

Writes ``results/ensemble_study.csv`` (one row per fold and per member or the ensemble) and prints
the mean and standard deviation over the folds.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from ravdess_tf.atomic import write_csv
from ravdess_tf.evaluation import average_predictions, compute_metrics
from ravdess_tf.exceptions import ParameterError
from ravdess_tf.results import StudyResults, load_results
from ravdess_tf.splits import NUM_FOLDS

#: The study whose runs are read: the log-mel networks' preset, seed 0 (one run per fold).
PRESET, SEED = "full", 0


def member_predictions(results_dir: Path, models: list[str], features: str) -> dict[str, pd.DataFrame]:
    """Each model's test predictions on every actor fold at one front-end, as ``metrics.csv`` names them."""
    results = load_results(results_dir)
    metrics = results.metrics
    runs_of = (metrics["preset"] == PRESET) & (metrics["features"] == features) & (metrics["seed"] == SEED) \
        & (metrics["protocol"] == "actor_cv")
    tables = {}
    for model in models:
        runs = metrics[runs_of & (metrics["model"] == model)].reset_index(drop=True)
        missing = [fold for fold in map(str, range(NUM_FOLDS)) if fold not in set(runs["fold"])]
        if missing:
            raise ParameterError(f"{results_dir / 'metrics.csv'} has no actor_cv fold {', '.join(missing)} of {model} "
                                 f"at features {features!r}: run `ravdess-tf study --preset {PRESET} --models {model} "
                                 f"--protocols actor_cv` with this front-end first, or pick another --features")
        tables[model] = StudyResults(runs, results.folder).predictions()
    return tables


def score(results_dir: Path, models: list[str], features: str) -> pd.DataFrame:
    """Test macro-F1 and accuracy of each member and of their ensemble, per fold."""
    predictions = member_predictions(results_dir, models, features)
    rows = []
    for fold in range(NUM_FOLDS):
        tables = {model: table[table["fold"] == str(fold)] for model, table in predictions.items()}
        for name, table in [*tables.items(), (" + ".join(models), average_predictions(tables.values()))]:
            metrics = compute_metrics(table["emotion_id"], table["predicted_id"])
            rows.append({"run": name, "fold": fold, "test_f1_macro": round(metrics["f1_macro"], 4),
                         "test_accuracy": round(metrics["accuracy"], 4)})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", required=True, help="two or more models of the study")
    parser.add_argument("--features", default="logmel80+level+copies",
                        help="the front-end, as the features column of metrics.csv names it")
    parser.add_argument("--results-dir", default="results/full")
    parser.add_argument("--out", default="results/ensemble_study.csv")
    args = parser.parse_args()
    if len(set(args.models)) < 2:
        parser.error(f"--models needs two or more different models, got {args.models}")
    if "svm" in args.models:
        parser.error("--models cannot include svm: its p_* columns are a decision, not probabilities to average")
    table = score(Path(args.results_dir), args.models, args.features)
    write_csv(Path(args.out), table)
    summary = table.groupby("run", sort=False).agg(
        test_f1_macro=("test_f1_macro", "mean"), test_f1_sd=("test_f1_macro", "std"),
        test_accuracy=("test_accuracy", "mean"))
    print(summary.round(3).to_string())


if __name__ == "__main__":
    main()
