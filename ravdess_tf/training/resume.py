"""Resume-safe training state: a backup taken after every callback has seen the epoch, and a log with one
row per epoch however often the run was resumed.

Keras's ``BackupAndRestore`` saves at the end of an epoch; callbacks after it in the list (validation,
selection, the CSV log) run later. A run killed in between resumed *after* that epoch, which had been
trained but never scored or logged (it happened: a 262 MB model takes a minute to save). Here the backup
waits for the next epoch's start instead, so a kill in the gap makes the run train that epoch again; the
log drops the rows it will write again, and the selection (``SelectOnValidation``) is idempotent per epoch.

Keras's backup holds the weights and the optimiser, not the layers' random state (the seed generators of
dropout): a run resumed at epoch 12 drew epoch 0's dropout masks again, and trained another run than the
one it resumed. The backup here keeps that state too, so on the same machine a run killed and resumed
trains exactly as one that was not.

Importing this module imports Keras.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import keras
import numpy as np

from ..atomic import atomic_path, write_json


class DeferredBackup(keras.callbacks.BackupAndRestore):
    """``BackupAndRestore`` that backs up epoch ``n`` when epoch ``n + 1`` begins.

    By then every callback has seen epoch ``n`` (scored it, kept it if best, logged it), and an exponential
    moving average of the weights swapped in for validation (``SwapEMAWeights``, which must come earlier in
    the list) has been swapped out again: the backup holds the weights being trained and, in the optimiser,
    their average. The last epoch is not backed up; the finished run has no use for it. The previous backup
    is kept while the next one is written (``double_checkpoint``), so a kill during the write leaves one to
    resume from.
    """

    def __init__(self, backup_dir: str | Path):
        super().__init__(str(backup_dir), double_checkpoint=True)
        self._finished_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        self._finished_epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if self._finished_epoch is not None:
            super().on_epoch_end(self._finished_epoch)
            self._finished_epoch = None

    def _save_model(self):
        super()._save_model()
        # Beside the epoch, in the file that travels with its weights when a damaged backup falls back to
        # the previous one.
        metadata = json.loads(Path(self._training_metadata_path).read_text())
        metadata["seed_states"] = [keras.ops.convert_to_numpy(state).tolist() for state in seed_states(self.model)]
        write_json(self._training_metadata_path, metadata)

    def _load_model(self):
        super()._load_model()
        path = Path(self._training_metadata_path)
        saved = json.loads(path.read_text()).get("seed_states") if path.is_file() else None
        if saved is None:  # no backup, or one written before the seed states were kept
            return
        states = seed_states(self.model)
        if len(saved) != len(states):
            raise ValueError(f"{path} holds {len(saved)} random seed states, the model has {len(states)}: "
                             "delete the run folder to train it again")
        for state, value in zip(states, saved):
            state.assign(np.asarray(value, dtype=state.dtype))


def seed_states(model: keras.Model) -> list:
    """The state variables of ``model``'s seed generators (dropout's, for one): its variables that are not weights."""
    weights = {id(weight) for weight in model.weights}
    return [variable for variable in model.variables if id(variable) not in weights]


class EpochLog(keras.callbacks.CSVLogger):
    """``CSVLogger`` appending to ``filename``, with one row per epoch across resumes.

    The file is opened when the first epoch begins, the first moment the epoch the run resumes at is known,
    and rows from that epoch on (written before a kill, to be written again) are dropped first.
    """

    def __init__(self, filename: str | Path):
        super().__init__(str(filename), append=True)
        self._opened = False

    def on_train_begin(self, logs=None):
        self._opened = False

    def on_epoch_begin(self, epoch, logs=None):
        if not self._opened:
            drop_epochs_from(Path(self.filename), epoch)
            super().on_train_begin()
            self._opened = True


def drop_epochs_from(path: Path, epoch: int) -> None:
    """Remove the rows of epochs ``epoch`` and later from the CSV log at ``path`` (atomically; no file, no-op)."""
    if not path.is_file():
        return
    # The csv module, not pandas and atomic.write_csv: the kept rows stay as CSVLogger wrote them, digit for digit.
    with open(path, newline="") as file:
        rows = list(csv.reader(file))
    if len(rows) < 2 or rows[0][0] != "epoch":
        return
    kept = [rows[0]] + [row for row in rows[1:] if int(row[0]) < epoch]
    if len(kept) == len(rows):
        return
    with atomic_path(path) as temporary, open(temporary, "w", newline="") as file:
        csv.writer(file).writerows(kept)
