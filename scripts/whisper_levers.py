"""Levers on the frozen Whisper-base front-end, 6-fold actor cross-validation.

Every row is a linear head (multinomial logistic regression on the mean and
standard deviation over frames of the chosen hidden states, standardised, 
class-balanced), as ``ravdess-tf study --preset whisper`` fits it. Every
choice (C, layers, input, ensemble weight) is made on the validation actors
of each fold, averaged over the six folds; test actors only report. Writes
``results/whisper_levers.csv`` and prints a Markdown table.

    python scripts/whisper_levers.py [--data-dir ../shared/ravdess]
    python scripts/whisper_levers.py --part padded    # then the costly padded input, merged in
    python scripts/whisper_levers.py --part attention # the attention-pooling head, by gradient
    python scripts/whisper_levers.py --part speaker   # per-speaker normalisation, and from how few clips

Needs ``pip install "ravdess-tf[whisper]"``; the hidden states come from the
feature cache (``ravdess-tf features --kind whisper`` fills it; the whole-clip
input is encoded here once, about 8 minutes on 2 cores, and cached).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score

import ravdess_tf
from ravdess_tf.atomic import save_array, write_csv
from ravdess_tf.cache import default_cache_dir
from ravdess_tf.evaluation import PROBABILITY_COLUMNS
from ravdess_tf.features import FeatureConfig, extract_features
from ravdess_tf.pipeline import normalize_per_speaker
from ravdess_tf.results import run_file_name
from ravdess_tf.splits import NUM_FOLDS, actor_folds
from ravdess_tf.training import LINEAR_C_GRID, fit_logistic_regression


def pooled_stats(states: np.ndarray) -> np.ndarray:
    """(clips, width, frames) -> (clips, 2 width): mean and standard deviation over frames."""
    return np.concatenate([states.mean(axis=2), states.std(axis=2)], axis=1)


def cropped_stats(metadata, layer: int, **fields) -> np.ndarray:
    return pooled_stats(extract_features(metadata, FeatureConfig(kind="whisper", layer=layer, **fields),
                                         progress=False))


def speaker_normalized_stats(metadata, reference: np.ndarray, layers=(2, 3, 4)) -> np.ndarray:
    """Pooled states after standardising every actor's frames with the statistics of that actor's
    ``reference`` clips (a boolean mask over the rows), as ``--preset whisper-speaker-norm`` does with all."""
    return np.concatenate([pooled_stats(normalize_per_speaker(
        extract_features(metadata, FeatureConfig(kind="whisper", layer=layer), progress=False),
        metadata["actor"], reference)) for layer in layers], axis=1)


def whole_clip_stats(metadata, cache: Path) -> np.ndarray:
    """(layers, clips, 2 width) pooled states of each whole clip, unpadded (no crop)."""
    from ravdess_tf import whisper
    from ravdess_tf.audio import load_audio

    if cache.is_file():
        return np.load(cache)
    embedder = whisper.WhisperEmbedder("base")
    stats = np.zeros((embedder.num_layers + 1, len(metadata), 1024), np.float32)
    for row, path in enumerate(metadata["path"]):
        states = embedder(load_audio(path)[None], range(embedder.num_layers + 1))
        stats[:, row] = np.concatenate([states[:, 0].mean(axis=1), states[:, 0].std(axis=1)], axis=1)
    save_array(cache, stats)
    return stats


def cross_validate(x, y, folds):
    """Per C: validation macro-F1 per fold, validation probabilities, and test probabilities of every
    clip (each tested once) from the head fitted on training actors and, refit, on training + validation."""
    validation = {C: [] for C in LINEAR_C_GRID}
    validation_probabilities = {C: np.zeros((len(y), 8)) for C in LINEAR_C_GRID}
    test_probabilities = {refit: {C: np.zeros((len(y), 8)) for C in LINEAR_C_GRID} for refit in (False, True)}
    for fold in folds:
        train, val, test = fold["train"], fold["validation"], fold["test"]
        for C in LINEAR_C_GRID:
            scaler, model = fit_logistic_regression(x[train], y[train], C)
            probabilities = model.predict_proba(scaler.transform(x[val]))
            validation_probabilities[C][val] = probabilities  # each clip validates in one fold
            validation[C].append(f1_score(y[val], probabilities.argmax(axis=1), average="macro"))
            test_probabilities[False][C][test] = model.predict_proba(scaler.transform(x[test]))
            both = np.concatenate([train, val])
            scaler, model = fit_logistic_regression(x[both], y[both], C)
            test_probabilities[True][C][test] = model.predict_proba(scaler.transform(x[test]))
    return validation, test_probabilities, validation_probabilities


def fold_scores(probabilities, y, folds):
    predicted = probabilities.argmax(axis=1)
    f1 = [f1_score(y[f["test"]], predicted[f["test"]], average="macro") for f in folds]
    accuracy = [accuracy_score(y[f["test"]], predicted[f["test"]]) for f in folds]
    return np.mean(f1), np.std(f1), np.mean(accuracy)


def run_probabilities(metadata, run_dirs, part: str = "test") -> np.ndarray:
    """Class probabilities ``(clips, 8)`` in ``metadata``'s order from the runs' ``predictions_{part}.csv``.

    Each run fills the rows of its own clips (a fold's test actors, say); the rest stay zero.
    """
    position = pd.Series(np.arange(len(metadata)), index=metadata["clip_id"])
    probabilities = np.zeros((len(metadata), len(ravdess_tf.EMOTIONS)))
    for run_dir in run_dirs:
        table = pd.read_csv(Path(run_dir) / f"predictions_{part}.csv")
        probabilities[position[table["clip_id"]].to_numpy()] = table[list(PROBABILITY_COLUMNS)]
    return probabilities


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=os.environ.get("RAVDESS_ROOT", "../shared/ravdess"))
    parser.add_argument("--logmel-runs", default="runs/full",
                        help="log-mel actor_cv runs to ensemble with (their predictions_*.csv)")
    parser.add_argument("--out", default="results/whisper_levers.csv")
    parser.add_argument("--part", choices=("all", "ensembles", "padded", "attention", "speaker"), default="all",
                        help="all: every lever but the padded input; ensembles: only the two base levers and "
                             "their ensembles; padded: only the input padded to 30 s (encodes every clip "
                             "again, about 14x the work); attention: the attention-pooling head trained by "
                             "gradient (AdamW, early stopping on validation; runs under runs/levers/); speaker: per-speaker "
                             "normalisation, with statistics from all, some, or only calm clips of each actor. Rows are "
                             "merged into --out as they come")
    args = parser.parse_args()
    command = "python scripts/whisper_levers.py" + ("" if args.part == "all" else f" --part {args.part}")

    start = time.perf_counter()
    metadata = ravdess_tf.load_metadata(args.data_dir)
    y = metadata["emotion_id"].to_numpy()
    folds = [{name: metadata.index.get_indexer(part.index) for name, part in split.items()}
             for split in actor_folds(metadata)]
    cropped = {layer: cropped_stats(metadata, layer) for layer in range(7)}
    whole = whole_clip_stats(metadata, default_cache_dir() / "whisper-base-whole-clip-pooled.npy")

    rows, kept = [], {}
    previous = pd.read_csv(args.out) if Path(args.out).is_file() and args.part != "all" else None

    def save():
        """Merge the rows so far into --out (a lever run again replaces its old row)."""
        table = pd.concat([previous, pd.DataFrame(rows)], ignore_index=True) if previous is not None \
            else pd.DataFrame(rows)
        write_csv(args.out, table.drop_duplicates(["lever", "refit_on_validation"], keep="last"))

    def lever(name, x):
        validation, test, val_probs = cross_validate(x, y, folds)
        C = max(LINEAR_C_GRID, key=lambda c: np.mean(validation[c]))  # one C for all folds, on validation
        for refit in (False, True):
            f1, f1_std, accuracy = fold_scores(test[refit][C], y, folds)
            rows.append({"lever": name, "refit_on_validation": refit, "C": C,
                         "validation_f1_macro": round(float(np.mean(validation[C])), 4),
                         "test_f1_macro": round(f1, 4), "test_f1_macro_std": round(f1_std, 4),
                         "test_accuracy": round(accuracy, 4), "command": command})
            kept[(name, refit)] = (test[refit][C], val_probs[C])
            print(rows[-1], flush=True)
        save()

    def stack(stats, layers):
        return np.concatenate([stats[layer] for layer in layers], axis=1)

    if args.part == "attention":
        from ravdess_tf.training import preset_config, train

        config = preset_config("whisper", "pooled", optimizer="adamw", refit=False,
                               model_options={"pooling": "attention", "dropout": 0.5})
        run_dirs = [Path("runs/levers") / run_file_name("attention", "actor_cv", k) for k in range(NUM_FOLDS)]
        validation_f1 = []
        for k, split in enumerate(actor_folds(metadata)):
            result = train("pooled", split, config, run_dir=run_dirs[k],
                           verbose=0, description={"protocol": "actor_cv", "fold": k})
            validation_f1.append(result["validation"]["f1_macro"])
        f1, f1_std, accuracy = fold_scores(run_probabilities(metadata, run_dirs), y, folds)
        rows.append({"lever": "3 s centred crop, layers 2+3+4, attention pooling + linear softmax by AdamW",
                     "refit_on_validation": False, "C": None,
                     "validation_f1_macro": round(float(np.mean(validation_f1)), 4), "test_f1_macro": round(f1, 4),
                     "test_f1_macro_std": round(f1_std, 4), "test_accuracy": round(accuracy, 4),
                     "command": command})
        print(rows[-1], flush=True)
        save()
        return

    if args.part == "speaker":
        # Every actor's frames standardised by that actor's own statistics (test actors by their test
        # clips; no labels), then from how many clips those statistics must come, and what happens
        # when a speaker is known only from calm speech (neutral and calm: 12 clips per actor).
        everything = np.ones(len(metadata), bool)
        lever("3 s centred crop, layers 2+3+4, per-speaker normalisation (all 60 clips of each actor)",
              speaker_normalized_stats(metadata, everything))
        rng = np.random.default_rng(0)
        for count in (8, 16, 30):
            reference = np.zeros(len(metadata), bool)
            for actor in metadata["actor"].unique():
                reference[rng.choice(np.flatnonzero(metadata["actor"] == actor), count, replace=False)] = True
            lever(f"3 s centred crop, layers 2+3+4, per-speaker normalisation from {count} random clips "
                  "of each actor", speaker_normalized_stats(metadata, reference))
        lever("3 s centred crop, layers 2+3+4, per-speaker normalisation from each actor's neutral and calm "
              "clips only", speaker_normalized_stats(metadata, metadata["emotion"].isin(["neutral", "calm"])
                                                    .to_numpy()))
        return

    if args.part == "padded":
        lever("3 s centred crop padded to 30 s, layers 2+3+4",
              np.concatenate([cropped_stats(metadata, L, pad_to_30s=True) for L in (2, 3, 4)], axis=1))
        return

    lever("whole clip, layers 2+3+4", stack(whole, (2, 3, 4)))
    lever("3 s centred crop, layers 2+3+4", stack(cropped, (2, 3, 4)))
    layer_sets = [(6,), (4,), (3, 4), (2, 3, 4, 5), (1, 2, 3, 4), (0, 1, 2, 3, 4, 5, 6)]
    for layers in [] if args.part == "ensembles" else layer_sets:
        lever(f"3 s centred crop, layers {'+'.join(map(str, layers))}", stack(cropped, layers))
    for layers in [] if args.part == "ensembles" else [(6,), (4,)]:
        lever(f"whole clip, layers {'+'.join(map(str, layers))}", stack(whole, layers))
    other_inputs = (({"duration": 4.0}, "4 s centred crop"), ({"trim_silence": True}, "silence trimmed, 3 s"))
    for fields, label in () if args.part == "ensembles" else other_inputs:
        lever(f"{label}, layers 2+3+4", np.concatenate([cropped_stats(metadata, L, **fields) for L in (2, 3, 4)],
                                                       axis=1))

    # Ensembles with the log-mel models of the full study: probabilities averaged with a weight
    # chosen on validation actors (the non-refit head's validation predictions).
    logmel_runs = Path(args.logmel_runs)
    for model in ("transformer", "lstm"):
        paths = [logmel_runs / run_file_name(model, "actor_cv", k) for k in range(NUM_FOLDS)]
        if not all((p / "predictions_test.csv").is_file() for p in paths):
            continue
        logmel_test = run_probabilities(metadata, paths, "test")
        logmel_val = run_probabilities(metadata, paths, "validation")
        for base in ("whole clip, layers 2+3+4", "3 s centred crop, layers 2+3+4"):
            whisper_test, _ = kept[(base, True)]
            _, whisper_val = kept[(base, False)]
            weights = np.linspace(0, 1, 11)

            def validation_f1(w):
                return np.mean([f1_score(y[f["validation"]], (w * whisper_val + (1 - w) * logmel_val)[
                    f["validation"]].argmax(axis=1), average="macro") for f in folds])

            w = max(weights, key=validation_f1)
            f1, f1_std, accuracy = fold_scores(w * whisper_test + (1 - w) * logmel_test, y, folds)
            rows.append({"lever": f"{base}, refit, + log-mel {model} (weight {1 - w:.1f})",
                         "refit_on_validation": True, "C": None,
                         "validation_f1_macro": round(float(validation_f1(w)), 4), "test_f1_macro": round(f1, 4),
                         "test_f1_macro_std": round(f1_std, 4), "test_accuracy": round(accuracy, 4),
                         "command": "python scripts/whisper_levers.py"})
            print(rows[-1], flush=True)

    save()
    print(f"\n{len(rows)} rows in {time.perf_counter() - start:.0f} s -> {args.out}")


if __name__ == "__main__":
    main()
