"""Ensembles of the recipe levers' networks, over the six actor folds, chosen on validation actors only.

Every lever run of ``scripts/recipe_levers.py`` kept its predictions for the validation and the test actors
of its fold, in its run folder and in ``results/levers`` (read from there by default; ``--runs-dir
runs/levers`` reads the run folders). An ensemble averages the class probabilities of two or more of them on the same clips
(:func:`ravdess_tf.evaluation.average_predictions`); no network is trained again. Every combination of
the members given is scored on each fold's validation actors and test actors:

    python scripts/ensemble_levers.py --members transformer/augmented-copies lstm/augmented-copies \\
        transformer/augmented-copies+speaker-norm

Writes ``results/ensembles.csv`` (one row per ensemble and fold) and prints the mean per ensemble, best
mean validation macro-F1 first. Picking the best of many ensembles on validation makes its validation
score optimistic; its test score chose nothing.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import pandas as pd

from ravdess_tf.atomic import write_csv
from ravdess_tf.evaluation import average_predictions, compute_metrics
from ravdess_tf.exceptions import ParameterError
from ravdess_tf.results import run_file_name
from ravdess_tf.splits import NUM_FOLDS


def fold_predictions(runs_dir: Path, member: str, fold: int, part: str) -> pd.DataFrame:
    """The predictions of one lever run (``MODEL/LEVER``) for one fold's validation or test actors."""
    model, _, lever = member.partition("/")
    if not model or not lever:
        raise ParameterError(f"a member is MODEL/LEVER, as transformer/augmented-copies; got {member!r}")
    path = runs_dir / lever / run_file_name(model, "actor_cv", fold) / f"predictions_{part}.csv"
    if not path.is_file():
        raise ParameterError(f"{path} is missing: run scripts/recipe_levers.py --model {model} --levers {lever} "
                             f"first")
    return pd.read_csv(path)


def score_ensembles(runs_dir: Path, members: list[str], smallest: int) -> pd.DataFrame:
    """Validation and test macro-F1 of every combination of ``smallest`` or more members, per fold."""
    rows = []
    for fold in range(NUM_FOLDS):
        tables = {(member, part): fold_predictions(runs_dir, member, fold, part)
                  for member in members for part in ("validation", "test")}
        for size in range(smallest, len(members) + 1):
            for combination in itertools.combinations(members, size):
                row = {"ensemble": " + ".join(combination), "members": size, "fold": fold}
                for part in ("validation", "test"):
                    parts = [tables[member, part] for member in combination]
                    table = parts[0] if size == 1 else average_predictions(parts)
                    metrics = compute_metrics(table["emotion_id"], table["predicted_id"])
                    row[f"{'val' if part == 'validation' else 'test'}_f1_macro"] = round(metrics["f1_macro"], 4)
                    if part == "test":
                        row["test_accuracy"] = round(metrics["accuracy"], 4)
                rows.append(row)
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", nargs="+", required=True, help="lever runs, each MODEL/LEVER")
    parser.add_argument("--smallest", type=int, default=1,
                        help="fewest members in an ensemble (1 also lists each member alone)")
    parser.add_argument("--runs-dir", default="results/levers",
                        help="LEVER/MODEL-actor_cv-foldK/predictions_PART.csv under it (default: results/levers, "
                             "the predictions recipe_levers.py keeps)")
    parser.add_argument("--out", default="results/ensembles.csv")
    args = parser.parse_args()
    if not 1 <= args.smallest <= len(args.members):
        parser.error(f"--smallest must be between 1 and the {len(args.members)} members, got {args.smallest}")
    table = score_ensembles(Path(args.runs_dir), args.members, args.smallest)
    write_csv(Path(args.out), table)
    summary = table.groupby("ensemble", sort=False).agg(
        members=("members", "first"), val_f1_macro=("val_f1_macro", "mean"), test_f1_macro=("test_f1_macro", "mean"),
        test_f1_sd=("test_f1_macro", "std"), test_accuracy=("test_accuracy", "mean"))
    print(summary.sort_values("val_f1_macro", ascending=False).round(3).to_string())


if __name__ == "__main__":
    main()
