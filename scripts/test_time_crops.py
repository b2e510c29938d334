"""Test-time crops: a trained log-mel run read at several windows of each clip, their probabilities averaged.

Every spectrogram model reads one 3 s window of a clip, centred (RAVDESS clips last 2.9-5.3 s, so
up to 2.3 s are never heard). Here a finished run folder is read again at windows taken at the
start, the centre and the end of each of its validation and test clips, and the mean of the three
windows' class probabilities is scored beside the centred window alone. Nothing is retrained; the
choice (adopt the mean or not) is made on the validation actors, the test actors only report.

As a check that the run is read as it was trained, the centred window's predictions are compared
with the run's own ``predictions_*.csv``: the share that agree is a column of the output (1.0 but
for floating-point ties).

    python scripts/test_time_crops.py runs/full/alexnet-actor_cv-fold*

Writes ``results/test_time_crops.csv`` (rows of other runs, from earlier calls, are kept) and prints
a Markdown table. Seconds per run on a CPU: feature extraction and 3 x (validation + test) forward
passes.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score

import ravdess_tf
from ravdess_tf.atomic import write_csv
from ravdess_tf.audio import fix_length, load_audio
from ravdess_tf.evaluation import to_markdown
from ravdess_tf.exceptions import ParameterError
from ravdess_tf.inference import load_run

#: Where each window sits in a clip, as a fraction of the samples a 3 s window leaves over (as in
#: scripts/whisper_crops.py): the start, the centre (what training used) and the end.
POSITIONS = {"start": 0.0, "centre": 0.5, "end": 1.0}
SPLITS = ("validation", "test")


def window_probabilities(predictor, audio: list[np.ndarray], position: float) -> np.ndarray:
    """``(clips, 8)`` probabilities of the window of every clip at ``position``."""
    size = predictor.feature_config.num_samples
    return predictor.predict_audio([fix_length(samples, size, position) for samples in audio])


def score(run_dir: Path, clip_paths: pd.Series) -> dict:
    """One row: the run's identity, and macro-F1 and accuracy of the centred window and of the mean.

    ``clip_paths`` is every clip's audio file, indexed by ``clip_id``."""
    config = json.loads((run_dir / "config.json").read_text())
    predictor = load_run(run_dir)
    if predictor.feature_config.kind == "whisper":
        raise ParameterError(f"{run_dir} reads Whisper states; scripts/whisper_crops.py measures crops for those")
    row = {"run": run_dir.as_posix(), "model": config["model"], "precision": config["train"]["precision"],
           "seed": config["train"]["seed"]}
    for split in SPLITS:
        saved = pd.read_csv(run_dir / f"predictions_{split}.csv")
        audio = [load_audio(path, predictor.feature_config.sample_rate) for path in clip_paths.loc[saved["clip_id"]]]
        windows = {name: window_probabilities(predictor, audio, position) for name, position in POSITIONS.items()}
        centre = windows["centre"].argmax(axis=1)
        mean = np.mean(list(windows.values()), axis=0).argmax(axis=1)
        truth = saved["emotion_id"].to_numpy()
        row[f"{split}_agreement"] = round(float(np.mean(centre == saved["predicted_id"].to_numpy())), 4)
        for name, predicted in (("centre", centre), ("mean3", mean)):
            row[f"{split}_f1_{name}"] = round(f1_score(truth, predicted, average="macro"), 4)
            row[f"{split}_accuracy_{name}"] = round(accuracy_score(truth, predicted), 4)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="finished run folders of log-mel models")
    parser.add_argument("--data-dir", default=os.environ.get("RAVDESS_ROOT", "../shared/ravdess"))
    parser.add_argument("--out", default="results/test_time_crops.csv")
    args = parser.parse_args()

    unfinished = [str(run) for run in args.runs if not (run / "predictions_test.csv").is_file()]
    if unfinished:
        raise SystemExit(f"not finished runs (no predictions_test.csv): {', '.join(unfinished)}; "
                         "give the folders of finished runs")
    clip_paths = ravdess_tf.load_metadata(args.data_dir).set_index("clip_id")["path"]
    table = pd.DataFrame([score(run, clip_paths) for run in args.runs])
    if Path(args.out).is_file():
        earlier = pd.read_csv(args.out)
        table = pd.concat([earlier[~earlier["run"].isin(table["run"])], table], ignore_index=True)
    write_csv(args.out, table)
    print(to_markdown(table))


if __name__ == "__main__":
    main()
