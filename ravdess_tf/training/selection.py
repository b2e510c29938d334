"""Model selection on validation actors: the callback that keeps a run's best epoch, resume-safe.

Importing this module imports Keras.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import keras
import numpy as np

from ..atomic import atomic_path, write_json
from ..evaluation import compute_metrics


class SelectOnValidation(keras.callbacks.Callback):
    """Validation macro-F1 each epoch; keeps the best model; stops after ``patience`` epochs without a
    better one, but not before ``min_epochs``.

    It does the work of EarlyStopping(restore_best_weights) and
    ModelCheckpoint(save_best_only) in one place and keeps its state in
    ``selection.json``, so a run resumed from its backup remembers the
    best epoch so far (the stock callbacks start afresh and could overwrite
    a better model from before the interruption). Without validation clips
    (``x_val=None``: a final model on all actors) it keeps the latest model.

    Seeing an epoch again (a run killed after the epoch ended but before its
    backup trains it again) is harmless: the epochs since the best are
    counted from ``epochs_done`` and ``best_epoch``, not incremented.
    """

    def __init__(self, x_val, y_val, run_dir: Path, patience: int, min_epochs: int = 0):
        super().__init__()
        self.x_val, self.y_val = x_val, y_val
        self.state_path = Path(run_dir) / "selection.json"
        self.model_path = Path(run_dir) / "best.keras"
        self.patience, self.min_epochs = patience, min_epochs
        self.state = {"best_f1": -1.0, "best_epoch": None, "epochs_since_best": 0, "epochs_done": 0,
                      "train_seconds": 0.0}

    def on_train_begin(self, logs=None):
        if self.state_path.is_file():
            saved = json.loads(self.state_path.read_text())
            if "epochs_done" not in saved:  # written before the key existed: the best epoch and those since
                saved["epochs_done"] = (saved.get("best_epoch") or 0) + saved.get("epochs_since_best", 0)
            self.state.update(saved)
        if self.state["best_f1"] is None:
            self.state["best_f1"] = -1.0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["learning_rate"] = float(np.asarray(self.model.optimizer.learning_rate))
        self.state["train_seconds"] += time.perf_counter() - self.epoch_start
        if self.x_val is None:  # no validation clips: the latest model is the one kept
            improved = True
        else:
            probabilities = self.model.predict(self.x_val, batch_size=64, verbose=0)
            predicted = probabilities.argmax(axis=1)
            true_probability = probabilities[np.arange(len(self.y_val)), self.y_val]
            logs["val_loss"] = float(-np.log(np.clip(true_probability, 1e-7, 1.0)).mean())
            logs["val_accuracy"] = float((predicted == self.y_val).mean())
            logs["val_macro_f1"] = compute_metrics(self.y_val, predicted)["f1_macro"]
            improved = logs["val_macro_f1"] > self.state["best_f1"]
        if improved:
            self.state.update(best_f1=logs.get("val_macro_f1"), best_epoch=epoch + 1)
            with atomic_path(self.model_path) as temporary:
                self.model.save(temporary)
        self.state["epochs_done"] = epoch + 1
        self.state["epochs_since_best"] = self.state["epochs_done"] - self.state["best_epoch"]
        if self.state["epochs_since_best"] >= self.patience and self.state["epochs_done"] >= self.min_epochs:
            self.model.stop_training = True
        write_json(self.state_path, self.state)
