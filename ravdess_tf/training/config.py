"""How one run trains: :class:`TrainConfig`, the record of every choice a run makes."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from ..exceptions import ParameterError
from ..features import FeatureConfig
from ..pipeline import AugmentConfig

#: "lbfgs" fits the linear ``pooled`` head exactly, as a multinomial logistic
#: regression (scikit-learn), with its L2 strength chosen on validation.
OPTIMIZERS = ("adamw", "adam", "sgd", "lbfgs")
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")


@dataclass(frozen=True)
class TrainConfig:
    """How one model is trained. Every field is saved in the run's ``config.json``."""

    #: Most epochs to run; early stopping usually ends sooner.
    epochs: int = 40
    batch_size: int = 32
    #: Peak learning rate, reached after ``warmup_epochs``, then cosine-decayed:
    #: at a constant rate validation macro-F1 swung 0.10-0.42 between epochs.
    learning_rate: float = 1e-3
    #: Epochs over which the learning rate climbs linearly from a tenth of its peak to the peak; the
    #: cosine decay then spans the rest, reaching its floor (1 % of the peak) one epoch after the last.
    #: 0: start at the peak; ``epochs``: climb for the whole run. A longer warm-up is the lever for
    #: networks that start slowly or not at all (VGG19 with the augmented copies stayed at chance;
    #: results/ablation.md). Five epochs gained the transformer 1.6 points of mean validation macro-F1
    #: over its actor folds and lost the LSTM 2.1 (results/ablation.md); not measured on the CNNs.
    warmup_epochs: int = 1
    #: Decoupled weight decay of AdamW.
    weight_decay: float = 1e-4
    optimizer: str = "adamw"
    #: Keep an exponential moving average of the weights (Polyak averaging) with
    #: this momentum, and select and save the averaged weights; ``None``: none.
    #: 0.99 averages over about 100 steps, 3 epochs of 30 batches.
    ema_momentum: float | None = None
    #: Stochastic weight averaging (Izmailov et al. 2018): from this epoch (1-based) on, the weights at
    #: the end of every epoch join an equal-weight average, which is validated, selected and saved
    #: instead of the latest weights; 0: none. With the cosine decay, an average of the low-rate end
    #: of the run. Not with ``ema_momentum``: one average at a time.
    swa_start_epoch: int = 0
    #: Epochs without a better validation macro-F1 before stopping.
    patience: int = 10
    #: Never stop before this many epochs, however early the best validation epoch came; the best
    #: is still chosen from every epoch. 0: patience alone decides. On ResNet50's actor folds a
    #: lucky epoch 12 stopped runs at epoch 22 of 40, the learning rate still 0.83 of its peak.
    min_epochs: int = 0
    #: Weight classes by inverse frequency (neutral has half the clips of the others).
    class_weights: bool = True
    #: SpecAugment masks, time shift and noise on training batches.
    augment: bool = True
    #: :class:`~ravdess_tf.pipeline.AugmentConfig` fields that differ from its defaults: the
    #: augmentation's strength, e.g. ``{"freq_masks": 2, "time_masks": 2}``.
    augment_options: dict = field(default_factory=dict)
    seed: int = 0
    #: Train towards ``1 - label_smoothing`` on the true class and the rest spread evenly over all
    #: eight (Keras' ``CategoricalCrossentropy(label_smoothing=...)``); 0: the plain labels.
    label_smoothing: float = 0.0
    #: Mix every training batch with itself in another order, inputs and labels alike, with a weight
    #: drawn from Beta(mixup_alpha, mixup_alpha) (Zhang et al. 2018, "mixup"); 0: no mixing.
    mixup_alpha: float = 0.0
    #: "float32", or a mixed policy ("mixed_bfloat16" was 1.43x faster on a CPU with AMX).
    precision: str = "float32"
    tensorboard: bool = False
    #: Options of the model builder (width, depth, stages, ...).
    model_options: dict = field(default_factory=dict)
    #: FeatureConfig fields that differ from its defaults.
    features: dict = field(default_factory=dict)
    #: optimizer="lbfgs" only: once the L2 strength is chosen on validation, fit
    #: again on training + validation clips (more speakers; test never seen).
    refit: bool = False
    #: optimizer="lbfgs" only: use this C instead of choosing one on validation
    #: (for a final model on all actors, take the C that cross-validation chose).
    linear_c: float | None = None
    #: Standardise every speaker's clips with that speaker's own statistics
    #: (:func:`ravdess_tf.pipeline.normalize_per_speaker`), in training and at
    #: test time: unsupervised adaptation to new speakers, which then need
    #: several clips each (predict takes the files it is given as one speaker).
    speaker_normalization: bool = False
    #: Train on several windows of every training clip, at these positions
    #: (``FeatureConfig.crop_position``: 0 its start, 0.5 its centre, 1 its end),
    #: one row each; validation and test see the features' own window. With
    #: ``refit``, the validation clips join the refit with every window too.
    #: ``None``: the features' window only. (0, 0.5, 1) won on validation actors
    #: for the Whisper head (results/whisper.md).
    train_crops: tuple | None = None
    #: Add to the training part a noisy and a pitch-shifted copy of every training
    #: clip (:mod:`ravdess_tf.augmentation`), never of a validation or test clip:
    #: the copies that inflate a random split (results/leakage), used honestly.
    #: Log-mel and MFCC features only.
    augmented_copies: bool = False
    #: A ``.weights.h5`` file (``model.save_weights``) to start from instead of
    #: random weights: a warm start, or the same start under two backends.
    initial_weights: str | None = None

    def __post_init__(self):
        for name in ("epochs", "batch_size", "patience"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ParameterError(f"TrainConfig.{name} must be a positive integer, got {value!r}")
        for switch in fields(self):
            # a string such as "False" would be truthy and switch the option on
            if switch.type == "bool" and not isinstance(getattr(self, switch.name), bool):
                raise ParameterError(f"TrainConfig.{switch.name} must be True or False, "
                                     f"got {getattr(self, switch.name)!r}")
        for name in ("warmup_epochs", "min_epochs", "swa_start_epoch"):
            value = getattr(self, name)
            if not isinstance(value, int) or not 0 <= value <= self.epochs:
                raise ParameterError(f"TrainConfig.{name} must be an integer from 0 to epochs ({self.epochs}), "
                                     f"got {value!r}")
        if not self.learning_rate > 0:
            raise ParameterError(f"TrainConfig.learning_rate must be positive, got {self.learning_rate!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ParameterError(f"TrainConfig.optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if not (isinstance(self.label_smoothing, (int, float)) and 0 <= self.label_smoothing < 1):
            raise ParameterError(f"TrainConfig.label_smoothing must be a number in [0, 1), got {self.label_smoothing!r}")
        if not (isinstance(self.mixup_alpha, (int, float)) and self.mixup_alpha >= 0):
            raise ParameterError(f"TrainConfig.mixup_alpha must be a number >= 0, got {self.mixup_alpha!r}")
        if self.optimizer == "lbfgs" and (self.label_smoothing or self.mixup_alpha):
            raise ParameterError("TrainConfig.label_smoothing and mixup_alpha shape the loss of gradient training; "
                                 "optimizer='lbfgs' fits the linear head by its own loss")
        if self.linear_c is not None and not (isinstance(self.linear_c, (int, float)) and self.linear_c > 0):
            raise ParameterError(f"TrainConfig.linear_c must be a positive number or None, got {self.linear_c!r}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ParameterError(f"TrainConfig.seed must be a non-negative integer, got {self.seed!r}")
        if self.initial_weights is not None and not str(self.initial_weights).endswith(".weights.h5"):
            raise ParameterError("TrainConfig.initial_weights must be a .weights.h5 file written by "
                                 f"model.save_weights, got {self.initial_weights!r}")
        if self.ema_momentum is not None and not (isinstance(self.ema_momentum, float) and 0 < self.ema_momentum < 1):
            raise ParameterError(f"TrainConfig.ema_momentum must be a float in (0, 1) or None, got {self.ema_momentum!r}")
        if self.ema_momentum is not None and self.optimizer == "lbfgs":
            raise ParameterError("TrainConfig.ema_momentum averages the weights of gradient training; "
                                 "optimizer='lbfgs' fits the linear head exactly and has none to average")
        if self.swa_start_epoch and (self.ema_momentum is not None or self.optimizer == "lbfgs"):
            raise ParameterError("TrainConfig.swa_start_epoch averages the weights of gradient training: not with "
                                 "ema_momentum (one average at a time) nor with optimizer='lbfgs'")
        if self.train_crops is not None:
            crops = tuple(self.train_crops)
            if not crops or not all(isinstance(p, (int, float)) and 0 <= p <= 1 for p in crops) \
                    or len(set(crops)) != len(crops):
                raise ParameterError("TrainConfig.train_crops must be None or distinct window positions in [0, 1] "
                                     f"(0 a clip's start, 0.5 its centre, 1 its end), got {self.train_crops!r}")
            if self.speaker_normalization:
                raise ParameterError("TrainConfig.train_crops and speaker_normalization together are not supported: "
                                     "choose one")
            # floats, so that 0 and 0.0 name one cache; a tuple, though config.json gives back a list
            object.__setattr__(self, "train_crops", tuple(float(p) for p in crops))
        if self.augment_options:
            if not self.augment:
                raise ParameterError("TrainConfig.augment_options shape the augmentation, which augment=False "
                                     "switches off: drop them or set augment=True")
            unknown = set(self.augment_options) - {f.name for f in fields(AugmentConfig)}
            if unknown:
                raise ParameterError(f"TrainConfig.augment_options has no field {', '.join(sorted(unknown))}; "
                                     f"AugmentConfig's fields: {', '.join(f.name for f in fields(AugmentConfig))}")
            self.augmentation()  # AugmentConfig checks the values
        if self.augmented_copies and self.feature_config().kind == "whisper":
            raise ParameterError("TrainConfig.augmented_copies are made for log-mel or MFCC features, not Whisper's")
        if self.precision not in PRECISIONS:
            raise ParameterError(f"TrainConfig.precision must be one of {PRECISIONS}, got {self.precision!r}")

    @property
    def soft_labels(self) -> bool:
        """Whether training needs one-hot (then smoothed or mixed) labels rather than class indices."""
        return bool(self.label_smoothing or self.mixup_alpha)

    @property
    def reads_audio(self) -> bool:
        """Whether training makes features that a :class:`~ravdess_tf.cache.FeatureTable` of one window per clip
        does not hold (several windows, augmented copies), and so needs the audio files."""
        return self.train_crops is not None or self.augmented_copies

    def feature_config(self) -> FeatureConfig:
        return FeatureConfig(**self.features)

    def augmentation(self) -> AugmentConfig | None:
        """The on-the-fly augmentation of training batches; ``None`` with ``augment=False``."""
        return AugmentConfig(**self.augment_options) if self.augment else None
