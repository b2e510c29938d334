"""Stochastic weight averaging (Izmailov et al. 2018, "Averaging weights leads to wider optima and better
generalization"): from a given epoch on, validate, keep and test the equal-weight average of the weights
at the end of every epoch, instead of the latest weights. Resume-safe.

Keras 3 has an exponential moving average of the weights (``use_ema``) but no equal-weight average.

Importing this module imports Keras.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from ..atomic import atomic_path


class StochasticWeightAveraging(keras.callbacks.Callback):
    """Average the trained weights at the end of every epoch from ``start_epoch`` (1-based) on.

    At each of those epochs' ends the weights join the running average, which is swapped into the model
    for the callbacks after this one in the list (validation, selection, the log, the final model of a
    run without validation clips); the weights being trained are swapped back when the next epoch
    begins, so that training, and :class:`~ravdess_tf.training.resume.DeferredBackup` (which must come
    later in the list), see them. Before ``start_epoch`` nothing changes.

    Only the trainable variables are averaged, as Keras's own moving average (``use_ema``) does: batch
    normalisation statistics stay those of the weights being trained.

    Parameters
    ----------
    start_epoch : int
        The first epoch (1-based) whose weights join the average.
    state_path : str or pathlib.Path
        A ``.npz`` file for the average, the number of epochs it holds, the last of them and the average
        before that epoch joined. A run killed after an epoch ended but before its backup trains that
        epoch again; the average then goes back one epoch first, so no epoch is counted twice.
    """

    def __init__(self, start_epoch: int, state_path: str | Path):
        super().__init__()
        self.start_epoch = int(start_epoch)
        self.state_path = Path(state_path)
        self.average = self.previous = None
        self.count, self.last_epoch = 0, None  # epochs averaged; the 0-based index of the latest
        self.trained = None  # the weights being trained, while the average is swapped in

    def on_train_begin(self, logs=None):
        if not self.state_path.is_file():
            return
        with np.load(self.state_path) as saved:
            self.count, self.last_epoch = int(saved["count"]), int(saved["last_epoch"])
            variables = len(self.model.trainable_variables)
            self.average = [saved[f"average_{i}"] for i in range(variables)]
            self.previous = [saved[f"previous_{i}"] for i in range(variables)] if self.count > 1 else None

    def on_epoch_begin(self, epoch, logs=None):
        if self.trained is not None:
            self._assign(self.trained)
            self.trained = None
        if self.last_epoch is None or self.last_epoch < epoch:
            return
        if self.last_epoch > epoch:
            raise RuntimeError(f"{self.state_path} averages the weights up to epoch {self.last_epoch + 1}, but the "
                               f"run resumes at epoch {epoch + 1}: delete the run folder to train it again")
        # Resumed at the epoch the average took in last: it will be trained, and taken in, again.
        self.count -= 1
        self.average, self.previous = self.previous, None
        self.last_epoch = epoch - 1 if self.count else None

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 < self.start_epoch:
            return
        trained = [keras.ops.convert_to_numpy(variable) for variable in self.model.trainable_variables]
        self.previous = self.average
        self.average = (trained if self.average is None else
                        [mean + (weights - mean) / (self.count + 1) for mean, weights in zip(self.average, trained)])
        self.count, self.last_epoch = self.count + 1, epoch
        self._save()
        self.trained = trained
        self._assign(self.average)

    def on_train_end(self, logs=None):
        # A finished fit leaves no state behind, as BackupAndRestore leaves no backup: a fit started again
        # in the same folder starts from epoch 0, and its average with it.
        self.state_path.unlink(missing_ok=True)

    def _assign(self, values):
        for variable, value in zip(self.model.trainable_variables, values):
            variable.assign(value)

    def _save(self):
        arrays = {f"average_{i}": value for i, value in enumerate(self.average)}
        if self.previous is not None:
            arrays.update({f"previous_{i}": value for i, value in enumerate(self.previous)})
        with atomic_path(self.state_path) as temporary, open(temporary, "wb") as file:
            np.savez(file, count=self.count, last_epoch=self.last_epoch, **arrays)
