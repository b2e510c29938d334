"""Gradient training of one network: optimiser and schedule, the batches, the callbacks, ``model.fit``.

Importing this module imports Keras.
"""

from __future__ import annotations

import keras
import numpy as np

from ..data import EMOTIONS
from ..models import build_model
from ..batches import ArrayBatches
from ..pipeline import class_weights_for
from .resume import DeferredBackup, EpochLog
from .selection import SelectOnValidation
from .weight_averaging import StochasticWeightAveraging


def learning_rate_schedule(config, steps_per_epoch: int):
    """A cosine decay after a linear warm-up of ``config.warmup_epochs`` epochs (see :class:`TrainConfig`):
    a constant rate let validation macro-F1 swing by 0.3 between epochs here."""
    # The decay ends one epoch after the last, whatever the warm-up: the schedule every run had
    # before warm-up became a field (one epoch of it, decay over ``epochs`` epochs).
    decay_steps = (config.epochs + 1 - config.warmup_epochs) * steps_per_epoch
    if config.warmup_epochs == 0:
        return keras.optimizers.schedules.CosineDecay(config.learning_rate, decay_steps, alpha=0.01)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=config.learning_rate / 10, decay_steps=decay_steps, alpha=0.01,
        warmup_target=config.learning_rate, warmup_steps=config.warmup_epochs * steps_per_epoch)


def _optimizer(config, steps_per_epoch: int):
    """AdamW (or Adam, SGD) on :func:`learning_rate_schedule`. With ``config.ema_momentum``, Keras keeps the
    weights' moving average."""
    schedule = learning_rate_schedule(config, steps_per_epoch)
    ema = {} if config.ema_momentum is None else {"use_ema": True, "ema_momentum": config.ema_momentum}
    if config.optimizer == "adamw":
        return keras.optimizers.AdamW(schedule, weight_decay=config.weight_decay, **ema)
    if config.optimizer == "adam":
        return keras.optimizers.Adam(schedule, **ema)
    return keras.optimizers.SGD(schedule, momentum=0.9, nesterov=True, **ema)


def _training_batches(x, y, config, normalizer):
    """The training batches, the same under every backend (a PyDataset), and the callback that keeps
    their epoch in step with the model's (a run resumed at epoch 12 gets epoch 12's batches)."""
    batches = ArrayBatches(x, y, batch_size=config.batch_size, shuffle=True, augment=config.augmentation(),
                           seed=config.seed, normalizer=normalizer,
                           num_classes=len(EMOTIONS) if config.soft_labels else None, mixup_alpha=config.mixup_alpha)
    follow_epoch = keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: batches.set_epoch(epoch))
    return batches, follow_epoch


def fit_network(model_name, config, feature_config, features, labels, normalizer, run_dir, callbacks, verbose):
    """Build, compile and fit (or resume fitting) the model of one run."""
    keras.utils.set_random_seed(config.seed)
    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(config.precision)
    try:
        model = build_model(model_name, (*feature_config.shape, 1), len(EMOTIONS), **config.model_options)
        train_batches, follow_epoch = _training_batches(features["train"], labels["train"], config, normalizer)
        if config.initial_weights is not None:
            model.load_weights(config.initial_weights)
        steps_per_epoch = int(np.ceil(len(labels["train"]) / config.batch_size))
        # Class indices and the sparse loss unless the labels are soft; runs without smoothing or mixup
        # are what they were before these levers existed.
        loss = (keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing) if config.soft_labels
                else "sparse_categorical_crossentropy")
        model.compile(optimizer=_optimizer(config, steps_per_epoch), loss=loss, metrics=["accuracy"])
        x_val = normalizer(features["validation"])[..., None] if len(labels["validation"]) else None
        # Validation, selection and the log see the weights' average when there is one; the backup, taken
        # when the next epoch begins, after the swap back, holds the weights being trained.
        all_callbacks = [follow_epoch]
        if config.ema_momentum is not None:
            all_callbacks.append(keras.callbacks.SwapEMAWeights(swap_on_epoch=True))
        if config.swa_start_epoch:
            all_callbacks.append(StochasticWeightAveraging(config.swa_start_epoch, run_dir / "weight_average.npz"))
        all_callbacks += [
            SelectOnValidation(x_val, labels["validation"], run_dir, config.patience, config.min_epochs),
            DeferredBackup(run_dir / "backup"),
            EpochLog(run_dir / "history.csv"),
        ]
        if config.tensorboard:
            all_callbacks.append(keras.callbacks.TensorBoard(str(run_dir / "tensorboard")))
        all_callbacks += callbacks or []
        # shuffle=False: the batches shuffle themselves, by seed and epoch
        model.fit(train_batches, epochs=config.epochs, callbacks=all_callbacks, verbose=verbose, shuffle=False,
                  class_weight=class_weights_for(labels["train"]) if config.class_weights else None)
    finally:
        keras.config.set_dtype_policy(previous_policy)
