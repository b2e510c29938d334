"""Several crops per clip: a lever for the single-clip Whisper head, over actor folds and EmoBox's folds.

The bundled Whisper head reads one centred 3 s crop of a clip (RAVDESS clips last 2.9-5.3 s). Here
every clip also gives a crop at its start and one at its end; the head (the ``whisper`` preset's:
mean and standard deviation over frames of layers 2+3+4 at -20 dBFS, a class-balanced logistic
regression, refit on training + validation actors) is trained on the centre crop or on all three,
and tested on the centre crop or on the mean of the three crops' probabilities. One C for all six
folds of a protocol is chosen on the mean validation macro-F1; test actors only report.

    python scripts/whisper_crops.py [--data-dir ../shared/ravdess]
    python scripts/whisper_crops.py --part speaker-projection --protocols actor_cv

Writes ``results/whisper_crops.csv`` and prints a Markdown table. Encoding the two extra crops of
all 1440 clips takes about 3 minutes on 2 cores (cached beside the feature cache).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score

import ravdess_tf
from ravdess_tf.atomic import save_array, write_csv
from ravdess_tf.audio import fix_length, load_audio, prepare_clip
from ravdess_tf.cache import default_cache_dir
from ravdess_tf.evaluation import to_markdown
from ravdess_tf.splits import actor_folds, emobox_folds
from ravdess_tf.training import LINEAR_C_GRID, fit_logistic_regression, preset_config

#: Where in a clip each crop starts, as a fraction of the samples left over by a 3 s crop.
CROPS = {"start": 0.0, "centre": 0.5, "end": 1.0}
LAYERS = (2, 3, 4)
#: How many speaker directions ``--part speaker-projection`` tries: 16 training actors give at most 15.
SPEAKER_DIRECTIONS = (2, 4, 8, 15)


def crop_stats(metadata: pd.DataFrame, cache: Path) -> np.ndarray:
    """``(crops, clips, 2 * width * layers)`` pooled states of every crop of every clip, cached."""
    from ravdess_tf.whisper import WhisperEmbedder

    if cache.is_file():
        return np.load(cache)
    config = preset_config("whisper", "pooled").feature_config()
    embedder = WhisperEmbedder(config.whisper_model)
    width = embedder.encoder.outputs[0].shape[-1]
    stats = np.zeros((len(CROPS), len(metadata), 2 * width * len(LAYERS)), np.float32)
    for row, path in enumerate(metadata["path"]):
        audio = load_audio(path, config.sample_rate)
        clips = np.stack([prepare_clip(fix_length(audio, config.num_samples, where), config)
                          for where in CROPS.values()])
        states = embedder(clips, LAYERS)  # (layers, crops, frames, width)
        pooled = np.concatenate([states.mean(axis=2), states.std(axis=2)], axis=2)  # (layers, crops, 2 width)
        stats[:, row] = pooled.transpose(1, 0, 2).reshape(len(CROPS), -1)
    save_array(cache, stats)
    return stats


def speaker_projection(x: np.ndarray, speakers: np.ndarray, directions: int):
    """A function that removes from standardised pooled states the ``directions`` along which the training
    speakers' mean states differ most (nuisance attribute projection, as in speaker verification): fitted
    on training clips only, so that it needs no statistics of a new speaker, unlike per-speaker normalisation."""
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    speaker_means = np.stack([((x[speakers == s] - mean) / scale).mean(axis=0) for s in np.unique(speakers)])
    _, _, components = np.linalg.svd(speaker_means - speaker_means.mean(axis=0), full_matrices=False)
    projection = components[:directions]

    def project(z):
        z = (z - mean) / scale
        return z - (z @ projection.T) @ projection

    return project


def evaluate(stats, y, folds, train_crops, test_crops, actors=None, directions=0):
    """Per C: mean validation macro-F1; and the test probabilities of the refit head (each clip tested once).
    With ``directions``, the speaker subspace of the training actors is projected out first."""
    crop_index = {name: index for index, name in enumerate(CROPS)}
    results = {}
    for C in LINEAR_C_GRID:
        validation, test_probabilities = [], np.zeros((len(y), 8))
        for fold in folds:
            def fit(rows):
                x = np.concatenate([stats[crop_index[name], rows] for name in train_crops])
                project = speaker_projection(x, np.tile(actors[rows], len(train_crops)), directions) \
                    if directions else (lambda z: z)
                return project, fit_logistic_regression(project(x), np.tile(y[rows], len(train_crops)), C)

            def predict(model, rows):
                project, (scaler, regression) = model
                return np.mean([regression.predict_proba(scaler.transform(project(stats[crop_index[name], rows])))
                                for name in test_crops], axis=0)

            model = fit(fold["train"])
            validation.append(f1_score(y[fold["validation"]], predict(model, fold["validation"]).argmax(axis=1),
                                       average="macro"))
            refit = fit(np.concatenate([fold["train"], fold["validation"]]))
            test_probabilities[fold["test"]] = predict(refit, fold["test"])
        results[C] = (float(np.mean(validation)), test_probabilities)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=os.environ.get("RAVDESS_ROOT", "../shared/ravdess"))
    parser.add_argument("--out", default="results/whisper_crops.csv")
    parser.add_argument("--protocols", nargs="+", choices=("actor_cv", "emobox"), default=["actor_cv", "emobox"])
    parser.add_argument("--part", choices=("crops", "speaker-projection"), default="crops",
                        help="the crop levers, or projecting the training speakers' subspace out (centre crop)")
    args = parser.parse_args()

    metadata = ravdess_tf.load_metadata(args.data_dir)
    y = metadata["emotion_id"].to_numpy()
    stats = crop_stats(metadata, default_cache_dir() / "whisper-base-L2+3+4-level-20-three-crops.npy")
    protocols = {name: folds(metadata) for name, folds in (("actor_cv", actor_folds), ("emobox", emobox_folds))
                 if name in args.protocols}
    levers = {"centre crop (the bundled head's recipe)": (["centre"], ["centre"], 0),
              "test: mean of 3 crops": (["centre"], list(CROPS), 0),
              "train: 3 crops": (list(CROPS), ["centre"], 0),
              "train: 3 crops; test: mean of 3 crops": (list(CROPS), list(CROPS), 0)}
    if args.part == "speaker-projection":
        levers = {f"centre crop, {k} speaker directions projected out": (["centre"], ["centre"], k)
                  for k in SPEAKER_DIRECTIONS}
    rows = []
    actors = metadata["actor"].to_numpy()
    for protocol, splits in protocols.items():
        folds = [{name: metadata.index.get_indexer(part.index) for name, part in split.items()} for split in splits]
        for lever, (train_crops, test_crops, directions) in levers.items():
            results = evaluate(stats, y, folds, train_crops, test_crops, actors, directions)
            C = max(results, key=lambda c: results[c][0])
            predicted = results[C][1].argmax(axis=1)
            f1 = [f1_score(y[f["test"]], predicted[f["test"]], average="macro") for f in folds]
            accuracy = [accuracy_score(y[f["test"]], predicted[f["test"]]) for f in folds]
            rows.append({"protocol": protocol, "lever": lever, "C": C, "val_f1_macro": round(results[C][0], 4),
                         "test_f1_macro": round(float(np.mean(f1)), 4), "test_f1_macro_std": round(float(np.std(f1)), 4),
                         "test_accuracy": round(float(np.mean(accuracy)), 4),
                         "folds": " ".join(f"{v:.3f}" for v in f1)})
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    if Path(args.out).is_file():  # rows of other protocols and levers, from earlier calls, are kept
        earlier = pd.read_csv(args.out)
        replaced = earlier["protocol"].isin(args.protocols) & earlier["lever"].isin(table["lever"])
        table = pd.concat([earlier[~replaced], table], ignore_index=True)
    write_csv(args.out, table)
    print(to_markdown(table))


if __name__ == "__main__":
    main()
