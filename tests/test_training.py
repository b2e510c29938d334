import json
from dataclasses import replace
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest

import ravdess_tf
from ravdess_tf.exceptions import ParameterError
from ravdess_tf.pipeline import AugmentConfig, class_weights_for
from ravdess_tf.training import (PRESETS, TrainConfig, apply_overrides, describe_cpu, preset_config, train,
                                 widest_vector_unit)

#: A tiny LSTM on a short input: each epoch takes a fraction of a second.
TINY = dict(epochs=2, batch_size=8, patience=5, features={"n_mels": 16, "hop_length": 1024},
            model_options={"units": 8, "depth": 1})


@pytest.fixture(scope="module")
def split(synthetic_root):
    metadata = ravdess_tf.load_metadata(synthetic_root)
    return ravdess_tf.make_split(metadata, "paper", seed=0)


@pytest.fixture(scope="module")
def final_split(split):
    """Every clip in training, no validation or test clips: a final model on all actors."""
    everything = pd.concat(split.values())
    return {"train": everything, "validation": everything.iloc[:0], "test": everything.iloc[:0]}


def test_presets_build_every_model():
    for preset in PRESETS:
        assert PRESETS[preset]["description"]
        assert set(PRESETS[preset]["study"]) <= set(PRESETS[preset]["models"])
        for name in PRESETS[preset]["models"]:
            config = preset_config(preset, name)
            assert isinstance(config, TrainConfig)
            assert config.feature_config().shape[0] >= 75  # InceptionV3's minimum
    assert set(PRESETS["full"]["models"]) >= set(ravdess_tf.MODEL_NAMES)
    assert preset_config("whisper", "pooled").optimizer == "lbfgs"
    assert preset_config("whisper-speaker-norm", "pooled").speaker_normalization
    assert not preset_config("whisper", "pooled").speaker_normalization
    # Per-model overrides apply to their model only.
    assert preset_config("full", "vgg16").learning_rate < preset_config("full", "resnet50").learning_rate
    with pytest.raises(ParameterError, match="Preset 'whisper' has no recipe for 'vgg16'"):
        preset_config("whisper", "vgg16")


def test_lbfgs_linear_head_is_the_logistic_regression(split, tmp_path):
    """The saved Keras head gives the probabilities of the regression chosen on validation."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from ravdess_tf.features import extract_features
    from ravdess_tf.models import register_custom_layers
    from ravdess_tf.pipeline import Normalizer

    config = TrainConfig(optimizer="lbfgs", features={"n_mels": 16, "hop_length": 1024})
    run_dir = tmp_path / "linear"
    result = train("pooled", split, config, run_dir=run_dir, cache_dir=tmp_path / "cache", verbose=0)
    selection = json.loads((run_dir / "selection.json").read_text())
    history = pd.read_csv(run_dir / "history.csv")
    assert selection["C"] == history.loc[history["val_macro_f1"].idxmax(), "C"]
    assert result["validation"]["f1_macro"] == pytest.approx(history["val_macro_f1"].max())

    register_custom_layers()
    model = keras.models.load_model(run_dir / "best.keras")
    normalizer = Normalizer.from_dict(json.loads((run_dir / "normalizer.json").read_text()))
    pooling = keras.Model(model.input, model.get_layer("pooled").output)

    def pooled(part):
        x = extract_features(split[part], config.feature_config(), cache_dir=tmp_path / "cache", progress=False)
        return normalizer(x)[..., None], pooling.predict(normalizer(x)[..., None], verbose=0)

    (_, train_stats), (test_x, test_stats) = pooled("train"), pooled("test")
    scaler = StandardScaler().fit(train_stats)
    regression = LogisticRegression(C=selection["C"], max_iter=5000, class_weight="balanced", random_state=0)
    regression.fit(scaler.transform(train_stats), split["train"]["emotion_id"])
    probabilities = model.predict(test_x, verbose=0)
    # The synthetic clips hold only some emotions; the others get (almost) nothing.
    np.testing.assert_allclose(probabilities[:, regression.classes_],
                               regression.predict_proba(scaler.transform(test_stats)), atol=1e-4)
    assert probabilities.sum(axis=1) == pytest.approx(1, abs=1e-5)
    with pytest.raises(ParameterError, match="fits only the linear head"):
        train("lstm", split, TrainConfig(**{**TINY, "optimizer": "lbfgs"}), run_dir=tmp_path / "x",
              cache_dir=tmp_path / "cache", verbose=0)


@pytest.mark.parametrize("kwargs, message", [
    ({"epochs": 0}, "epochs must be a positive integer"),
    ({"epochs": 10, "min_epochs": 11}, "min_epochs must be an integer from 0 to epochs \\(10\\), got 11"),
    ({"min_epochs": -1}, "min_epochs must be an integer from 0"),
    ({"epochs": 10, "warmup_epochs": 11}, "warmup_epochs must be an integer from 0 to epochs \\(10\\), got 11"),
    ({"warmup_epochs": -1}, "warmup_epochs must be an integer from 0"),
    ({"optimizer": "rmsprop"}, "optimizer must be one of"),
    ({"precision": "float8"}, "precision must be one of"),
    ({"learning_rate": 0}, "learning_rate must be positive"),
    ({"linear_c": -1.0}, "linear_c must be a positive number"),
    ({"ema_momentum": 1.0}, "ema_momentum must be a float in"),
    ({"ema_momentum": 0.99, "optimizer": "lbfgs"}, "has none to average"),
    ({"epochs": 10, "swa_start_epoch": 11}, "swa_start_epoch must be an integer from 0 to epochs \\(10\\), got 11"),
    ({"swa_start_epoch": 5, "ema_momentum": 0.99}, "one average at a time"),
    ({"swa_start_epoch": 5, "optimizer": "lbfgs"}, "swa_start_epoch averages the weights of gradient training"),
    ({"train_crops": (0.0, 2.0)}, "train_crops must be None or distinct window positions"),
    ({"train_crops": ()}, "train_crops must be None or distinct window positions"),
    ({"train_crops": (0.5, 0.5)}, "train_crops must be None or distinct window positions"),
    ({"train_crops": (0.0, 1.0), "speaker_normalization": True}, "not supported"),
    ({"label_smoothing": 1.0}, "label_smoothing must be a number in \\[0, 1\\)"),
    ({"mixup_alpha": -0.2}, "mixup_alpha must be a number >= 0"),
    ({"label_smoothing": 0.1, "optimizer": "lbfgs"}, "fits the linear head by its own loss"),
    ({"augmented_copies": "False"}, "augmented_copies must be True or False, got 'False'"),
    ({"refit": 1}, "refit must be True or False"),
    ({"augment": False, "augment_options": {"freq_masks": 2}}, "augment=False switches off"),
    ({"augment_options": {"freq_mask": 2}}, "augment_options has no field freq_mask; AugmentConfig's fields: "),
    ({"augment_options": {"time_masks": 1.5}}, "AugmentConfig.time_masks must be an integer >= 0, got 1.5"),
])
def test_train_config_rejects(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        TrainConfig(**kwargs)


def test_augment_options_set_the_training_batches_augmentation():
    from ravdess_tf.training.fit import _training_batches

    features, labels = np.zeros((8, 16, 30), np.float32), np.arange(8) % 4
    default, _ = _training_batches(features, labels, TrainConfig(batch_size=4), None)
    assert default.augment == AugmentConfig()  # runs from before the field train as they did
    config = apply_overrides(TrainConfig(batch_size=4), {"augment_options.freq_masks": 2,
                                                          "augment_options.time_mask_width": 30})
    stronger, _ = _training_batches(features, labels, config, None)
    assert stronger.augment == AugmentConfig(freq_masks=2, time_mask_width=30)
    plain, _ = _training_batches(features, labels, TrainConfig(batch_size=4, augment=False), None)
    assert plain.augment is None


def test_train_crops_give_one_training_row_per_clip_and_window(split, tmp_path):
    """Training sees every window, validation and test the centre; a refit adds validation's windows."""
    from ravdess_tf.features import FeatureConfig, extract_features
    from ravdess_tf.training import _features_for_split, _with_crops

    config = TrainConfig(optimizer="lbfgs", refit=True, train_crops=[0.0, 0.5, 1.0],
                         features={"n_mels": 16, "hop_length": 1024})
    assert config.train_crops == (0.0, 0.5, 1.0)  # as read back from config.json
    feature_config = config.feature_config()
    labels = {name: split[name]["emotion_id"].to_numpy() for name in split}
    centre = _features_for_split(split, feature_config, tmp_path / "cache", progress=False)
    features, crop_labels = _with_crops(split, centre, labels, feature_config, config.train_crops, tmp_path / "cache",
                                        progress=False)
    n_train = len(split["train"])
    assert features["train"].shape == (3 * n_train, *feature_config.shape)
    assert features["refit"].shape[0] == 3 * len(split["validation"])
    assert (crop_labels["train"] == np.tile(labels["train"], 3)).all()
    start = extract_features(split["train"], FeatureConfig(**config.features, crop_position=0.0),
                             cache_dir=tmp_path / "cache", progress=False)
    np.testing.assert_allclose(features["train"][:n_train], start, atol=1e-5)
    assert not np.allclose(features["train"][:n_train], features["train"][n_train:2 * n_train])
    np.testing.assert_array_equal(features["train"][n_train:2 * n_train], centre["train"])  # read once, reused

    result = train("pooled", split, config, run_dir=tmp_path / "crops", cache_dir=tmp_path / "cache", verbose=0)
    assert 0 <= result["test"]["f1_macro"] <= 1 and result["features"] == "logmel16+level+3windows"
    assert len(pd.read_csv(tmp_path / "crops" / "predictions_test.csv")) == len(split["test"])
    assert json.loads((tmp_path / "crops" / "config.json").read_text())["train"]["train_crops"] == [0.0, 0.5, 1.0]
    with pytest.raises(ParameterError, match="a FeatureTable holds one window of each clip"):
        train("pooled", split, config, run_dir=tmp_path / "table", features=object(), verbose=0)


def test_augmented_copies_join_the_training_part_only(split, tmp_path):
    from ravdess_tf.training import _with_augmented_copies

    config = TrainConfig(**TINY, augmented_copies=True)
    feature_config = config.feature_config()
    labels = {name: split[name]["emotion_id"].to_numpy() for name in split}
    originals = {name: np.zeros((len(split[name]), *feature_config.shape), np.float32) for name in split}
    features, copy_labels = _with_augmented_copies(split, originals, labels, feature_config, 0, tmp_path / "cache",
                                                   progress=False)
    n_train = len(split["train"])
    assert features["train"].shape[0] == 3 * n_train and (copy_labels["train"] == np.tile(labels["train"], 3)).all()
    assert features["train"][n_train:].any(axis=(1, 2)).all()  # the copies' features (the originals are zeros)
    assert features["validation"] is originals["validation"] and features["test"] is originals["test"]
    result = train("lstm", split, config, run_dir=tmp_path / "copies", cache_dir=tmp_path / "cache", verbose=0)
    assert result["epochs"] == 2 and result["features"] == "logmel16+level+copies"
    with pytest.raises(ParameterError, match="not Whisper's"):
        TrainConfig(augmented_copies=True, features={"kind": "whisper"})


def test_augmented_copies_under_speaker_normalization(synthetic_root, tmp_path):
    """Every copy is standardised by its own speaker's statistics, like the originals."""
    from ravdess_tf.training import _with_augmented_copies

    metadata = ravdess_tf.load_metadata(synthetic_root)
    by_actor = {actor: metadata[metadata["actor"] == actor] for actor in (1, 2)}
    split = {"train": by_actor[1], "validation": by_actor[2], "test": metadata.iloc[:0]}
    config = TrainConfig(**TINY, augmented_copies=True, speaker_normalization=True)
    feature_config = config.feature_config()
    labels = {name: split[name]["emotion_id"].to_numpy() for name in split}
    originals = {name: np.zeros((len(split[name]), *feature_config.shape), np.float32) for name in split}
    features, _ = _with_augmented_copies(split, originals, labels, feature_config, 0, tmp_path / "cache",
                                         progress=False, speaker_normalization=True)
    n_train = len(split["train"])
    for copy in (features["train"][n_train:2 * n_train], features["train"][2 * n_train:]):
        per_band = copy.transpose(1, 0, 2).reshape(feature_config.shape[0], -1)
        np.testing.assert_allclose(per_band.mean(axis=1), 0, atol=1e-3)
        np.testing.assert_allclose(per_band.std(axis=1), 1, atol=1e-2)
    result = train("lstm", split, config, run_dir=tmp_path / "run", cache_dir=tmp_path / "cache", verbose=0)
    assert result["features"] == "logmel16+level+copies+speaker-norm"


def test_weight_averaging_selects_the_averaged_weights(split, tmp_path):
    """With ema_momentum the run keeps the moving average, which differs from the raw weights, and an
    interrupted run resumes where it stopped."""
    plain = train("lstm", split, TrainConfig(**TINY), run_dir=tmp_path / "plain", cache_dir=tmp_path / "cache",
                  verbose=0)
    config = TrainConfig(**TINY, ema_momentum=0.9)
    with pytest.raises(KeyboardInterrupt):
        train("lstm", split, config, run_dir=tmp_path / "ema", cache_dir=tmp_path / "cache", verbose=0,
              callbacks=[_Interrupt(1, "begin")])  # epoch 0 backed up
    averaged = train("lstm", split, config, run_dir=tmp_path / "ema", cache_dir=tmp_path / "cache", verbose=0)
    assert averaged["epochs"] == plain["epochs"] == 2
    weights = [keras.models.load_model(tmp_path / name / "best.keras").get_weights() for name in ("plain", "ema")]
    assert any(not np.allclose(a, b) for a, b in zip(*weights))


def test_preset_config_errors():
    with pytest.raises(ParameterError, match="Unknown preset 'fast'"):
        preset_config("fast", "lstm")
    with pytest.raises(ParameterError, match="TrainConfig has no field colour"):
        preset_config("quick", "lstm", colour="red")


def test_class_weights_inverse_frequency():
    weights = class_weights_for(np.array([0, 1, 1, 1]))
    assert weights == {0: pytest.approx(2.0), 1: pytest.approx(2 / 3)}


def test_train_writes_a_complete_run(split, tmp_path):
    run_dir = tmp_path / "run"
    result = train("lstm", split, TrainConfig(**TINY), run_dir=run_dir, cache_dir=tmp_path / "cache",
                   verbose=0, description={"protocol": "paper", "fold": "test"})
    for name in ("config.json", "normalizer.json", "history.csv", "selection.json", "best.keras",
                 "predictions_validation.csv", "predictions_test.csv", "metrics.json"):
        assert (run_dir / name).is_file(), name
    assert not (run_dir / "backup").exists()  # BackupAndRestore cleans up a finished run
    assert result["epochs"] == 2 and result["protocol"] == "paper"
    assert 0 <= result["test"]["f1_macro"] <= 1
    history = pd.read_csv(run_dir / "history.csv")
    assert {"loss", "val_loss", "val_macro_f1", "learning_rate"} <= set(history.columns)
    predictions = pd.read_csv(run_dir / "predictions_test.csv")
    assert len(predictions) == len(split["test"])
    assert np.allclose(predictions.filter(regex="^p_").sum(axis=1), 1, atol=1e-3)
    config = json.loads((run_dir / "config.json").read_text())
    assert config["split"]["train"]["clips"] == len(split["train"])

    with pytest.raises(FileExistsError, match="finished run"):
        train("lstm", split, TrainConfig(**TINY), run_dir=run_dir, cache_dir=tmp_path / "cache", verbose=0)


def test_label_smoothing_and_mixup_train_on_soft_labels(split, tmp_path):
    train("lstm", split, TrainConfig(**TINY), run_dir=tmp_path / "plain", cache_dir=tmp_path / "cache", verbose=0)
    soft = train("lstm", split, TrainConfig(**TINY, label_smoothing=0.2, mixup_alpha=0.4),
                 run_dir=tmp_path / "soft", cache_dir=tmp_path / "cache", verbose=0)
    config = json.loads((tmp_path / "soft" / "config.json").read_text())["train"]
    assert config["label_smoothing"] == 0.2 and config["mixup_alpha"] == 0.4
    # the training loss is the smoothed loss on mixed batches, not the plain one
    losses = [pd.read_csv(tmp_path / name / "history.csv")["loss"].to_numpy() for name in ("plain", "soft")]
    assert not np.allclose(*losses)
    assert 0 <= soft["test"]["f1_macro"] <= 1
    model = keras.models.load_model(tmp_path / "soft" / "best.keras")
    assert isinstance(model.loss, keras.losses.CategoricalCrossentropy)


def test_run_killed_after_training_is_only_evaluated(split, tmp_path):
    run_dir = tmp_path / "run"
    first = train("lstm", split, TrainConfig(**TINY), run_dir=run_dir, cache_dir=tmp_path / "cache", verbose=0)
    (run_dir / "metrics.json").unlink()  # as if killed between the last epoch and the evaluation
    model_time = (run_dir / "best.keras").stat().st_mtime_ns
    again = train("lstm", split, TrainConfig(**TINY), run_dir=run_dir, cache_dir=tmp_path / "cache", verbose=0)
    assert (run_dir / "best.keras").stat().st_mtime_ns == model_time  # not trained again
    assert len(pd.read_csv(run_dir / "history.csv")) == 2
    assert again["test"] == first["test"]


class _Interrupt(keras.callbacks.Callback):
    """A kill at the start or the end of one epoch (after the library's callbacks have seen that moment)."""

    def __init__(self, epoch, at):
        super().__init__()
        self.epoch, self.at = epoch, at

    def on_epoch_begin(self, epoch, logs=None):
        if self.at == "begin" and epoch == self.epoch:
            raise KeyboardInterrupt

    def on_epoch_end(self, epoch, logs=None):
        if self.at == "end" and epoch == self.epoch:
            raise KeyboardInterrupt


@pytest.fixture(scope="module")
def uninterrupted_history(split, tmp_path_factory):
    """The log of the three-epoch run of test_interrupted_run_resumes, trained without a kill."""
    run_dir = tmp_path_factory.mktemp("uninterrupted")
    train("lstm", split, TrainConfig(**{**TINY, "epochs": 3}), run_dir=run_dir / "run", cache_dir=run_dir / "cache",
          verbose=0)
    return pd.read_csv(run_dir / "run" / "history.csv")


@pytest.mark.parametrize("at, logged, backed_up", [("begin", 2, True), ("end", 2, True), ("end", 1, False)])
def test_interrupted_run_resumes(split, tmp_path, uninterrupted_history, at, logged, backed_up):
    """Killed at the start of epoch 2 (epochs 0-1 backed up), or at the end of epoch 1 or 0 (logged and scored,
    not yet backed up): the resumed run has every epoch once in its log and its selection, and trains exactly
    as the run that was not killed, dropout's random masks included (the LSTM's dropout is 0.3)."""
    run_dir = tmp_path / "run"
    config = TrainConfig(**{**TINY, "epochs": 3})
    with pytest.raises(KeyboardInterrupt):
        train("lstm", split, config, run_dir=run_dir, cache_dir=tmp_path / "cache", verbose=0,
              callbacks=[_Interrupt(2 if at == "begin" else logged - 1, at)])
    assert (run_dir / "backup").exists() == backed_up and not (run_dir / "metrics.json").exists()
    assert len(pd.read_csv(run_dir / "history.csv")) == logged
    assert json.loads((run_dir / "selection.json").read_text())["epochs_done"] == logged
    result = train("lstm", split, config, run_dir=run_dir, cache_dir=tmp_path / "cache", verbose=0)
    assert result["epochs"] == 3
    assert pd.read_csv(run_dir / "history.csv")["epoch"].tolist() == [0, 1, 2]
    selection = json.loads((run_dir / "selection.json").read_text())
    assert selection["epochs_done"] == 3 and selection["epochs_since_best"] == 3 - selection["best_epoch"]
    pd.testing.assert_frame_equal(pd.read_csv(run_dir / "history.csv"), uninterrupted_history)


def test_an_unfinished_run_resumes_only_as_what_it_started_as(split, tmp_path):
    """A run killed halfway and asked to go on under another recipe (a preset changed in between) is refused,
    naming what changed, and nothing in its folder is touched; asked as it started, it finishes."""
    run_dir = tmp_path / "run"
    config = TrainConfig(**{**TINY, "epochs": 3})
    with pytest.raises(KeyboardInterrupt):
        train("lstm", split, config, run_dir=run_dir, cache_dir=tmp_path / "cache", verbose=0,
              callbacks=[_Interrupt(2, "begin")])
    before = {path.name: path.stat().st_mtime_ns for path in run_dir.iterdir()}
    with pytest.raises(ParameterError, match=r"unfinished run of another configuration: warmup_epochs was 1, now 2"):
        train("lstm", split, replace(config, warmup_epochs=2), run_dir=run_dir, cache_dir=tmp_path / "cache",
              verbose=0)
    with pytest.raises(ParameterError, match=r"model was 'lstm', now 'transformer'"):
        train("transformer", split, config, run_dir=run_dir, cache_dir=tmp_path / "cache", verbose=0)
    assert {path.name: path.stat().st_mtime_ns for path in run_dir.iterdir()} == before
    assert train("lstm", split, config, run_dir=run_dir, cache_dir=tmp_path / "cache", verbose=0)["epochs"] == 3


def test_overwrite_starts_an_unfinished_run_of_another_configuration_afresh(split, tmp_path):
    run_dir = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train("lstm", split, TrainConfig(**{**TINY, "epochs": 3}), run_dir=run_dir, cache_dir=tmp_path / "cache",
              verbose=0, callbacks=[_Interrupt(2, "begin")])
    result = train("lstm", split, TrainConfig(**TINY), run_dir=run_dir, cache_dir=tmp_path / "cache", verbose=0,
                   overwrite=True)
    assert result["epochs"] == 2 and pd.read_csv(run_dir / "history.csv")["epoch"].tolist() == [0, 1]


@pytest.mark.parametrize("min_epochs, stopped_after", [(0, 4), (6, 6), (9, 9)])
def test_min_epochs_delays_the_stop_not_the_choice(tmp_path, min_epochs, stopped_after):
    """Validation macro-F1 peaks at epoch 2: with patience 2 the run stops after epoch 4, or later when a
    minimum number of epochs asks for more; the model kept is epoch 2's either way."""
    from ravdess_tf.training.selection import SelectOnValidation

    y_val = np.arange(8)  # one clip of each emotion
    correct_by_epoch = [4, 8, 2, 2, 2, 2, 2, 2, 2, 2]  # clips classified right after each epoch

    class ScriptedModel:
        """Just what the callback uses of a Keras model, its validation scores scripted by epoch."""
        optimizer = type("Optimizer", (), {"learning_rate": 1e-3})()
        stop_training = False
        epoch = 0

        def predict(self, x, **kwargs):
            predicted = np.where(np.arange(8) < correct_by_epoch[self.epoch], y_val, (y_val + 1) % 8)
            return np.eye(8)[predicted]

        def save(self, path):
            Path(path).write_text(f"epoch {self.epoch + 1}")

    model, callback = ScriptedModel(), SelectOnValidation(np.zeros((8, 1)), y_val, tmp_path, patience=2,
                                                          min_epochs=min_epochs)
    callback.set_model(model)
    callback.on_train_begin()
    for model.epoch in range(len(correct_by_epoch)):
        callback.on_epoch_begin(model.epoch)
        callback.on_epoch_end(model.epoch)
        if model.stop_training:
            break
    selection = json.loads((tmp_path / "selection.json").read_text())
    assert selection["epochs_done"] == stopped_after
    assert selection["best_epoch"] == 2 and (tmp_path / "best.keras").read_text() == "epoch 2"


@pytest.mark.parametrize("warmup_epochs", [0, 1, 3, 10])
def test_learning_rate_warms_up_then_decays_to_its_floor_after_the_last_epoch(warmup_epochs):
    """A tenth of the peak rising to the peak over the warm-up (from the peak with none), then a cosine
    that falls every epoch and would reach 1 % of the peak one epoch after the last."""
    from ravdess_tf.training.fit import learning_rate_schedule

    config, steps = TrainConfig(epochs=10, learning_rate=1e-3, warmup_epochs=warmup_epochs), 7
    rate = [float(learning_rate_schedule(config, steps)(epoch * steps)) for epoch in range(12)]
    assert rate[0] == pytest.approx(1e-3 if warmup_epochs == 0 else 1e-4)
    assert rate[warmup_epochs] == pytest.approx(1e-3)
    assert all(a < b for a, b in zip(rate[:warmup_epochs], rate[1:warmup_epochs + 1]))
    assert all(a > b for a, b in zip(rate[warmup_epochs:10], rate[warmup_epochs + 1:11]))
    assert rate[11] == pytest.approx(1e-5) and rate[10] > rate[11]


def test_one_warmup_epoch_is_the_schedule_runs_had_before_it_was_a_field():
    from ravdess_tf.training.fit import learning_rate_schedule

    before = keras.optimizers.schedules.CosineDecay(1e-4, decay_steps=40 * 30, warmup_target=1e-3,
                                                    warmup_steps=30, alpha=0.01)
    now = learning_rate_schedule(TrainConfig(epochs=40, learning_rate=1e-3), 30)
    for step in (0, 15, 30, 31, 400, 1199, 1230):
        assert float(now(step)) == pytest.approx(float(before(step)), rel=1e-7)


def test_backup_holds_the_trained_weights_not_their_average(tmp_path):
    """With an average of the weights swapped in for validation, the backup still holds the weights being
    trained: a resumed run goes on from those."""
    from ravdess_tf.training.resume import DeferredBackup

    x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")

    def compiled():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
        model.compile(keras.optimizers.Adam(0.1, use_ema=True, ema_momentum=0.9), "sparse_categorical_crossentropy")
        return model

    class Snapshot(keras.callbacks.Callback):
        """The model's weights when an epoch begins; at epoch ``kill_at``, a kill after the snapshot."""

        def __init__(self, kill_at=None):
            super().__init__()
            self.kill_at = kill_at

        def on_epoch_begin(self, epoch, logs=None):
            self.weights = [w.copy() for w in self.model.get_weights()]
            if epoch == self.kill_at:
                raise KeyboardInterrupt

    def callbacks(last):
        return [keras.callbacks.SwapEMAWeights(swap_on_epoch=True), DeferredBackup(tmp_path / "backup"), last]

    first, snapshot = compiled(), Snapshot(kill_at=2)
    with pytest.raises(KeyboardInterrupt):
        first.fit(x, y, epochs=4, batch_size=8, verbose=0, callbacks=callbacks(snapshot))
    resumed, restored = compiled(), Snapshot()
    resumed.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=callbacks(restored))
    for trained, back in zip(snapshot.weights, restored.weights):
        np.testing.assert_array_equal(trained, back)
    averaged = [v.numpy() for v in first.optimizer._model_variables_moving_average]  # swapped out: the average
    assert not np.allclose(averaged[0], snapshot.weights[0])


def _dense_model():
    """A two-class softmax on 4 inputs, compiled, the same initial weights every call."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    return model


class _Weights(keras.callbacks.Callback):
    """The model's weights at every epoch's end (and begin), as the callbacks at its place in the list see
    them; at the end of epoch ``kill_at``, a kill."""

    def __init__(self, kill_at=None):
        super().__init__()
        self.kill_at, self.at_end, self.at_begin = kill_at, {}, {}

    def on_epoch_begin(self, epoch, logs=None):
        self.at_begin[epoch] = [w.copy() for w in self.model.get_weights()]

    def on_epoch_end(self, epoch, logs=None):
        self.at_end[epoch] = [w.copy() for w in self.model.get_weights()]
        if epoch == self.kill_at:
            raise KeyboardInterrupt


def test_weight_averaging_validates_the_mean_of_the_epochs_from_its_start(tmp_path):
    """From epoch 3 (1-based) on, the callbacks after it see the mean of the trained weights at the end of
    epochs 3, 4, ...; before it the trained weights; training goes on from the trained weights."""
    from ravdess_tf.training.weight_averaging import StochasticWeightAveraging

    x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    trained, seen = _Weights(), _Weights()
    state = tmp_path / "average.npz"
    _dense_model().fit(x, y, epochs=5, batch_size=8, shuffle=False, verbose=0,
                       callbacks=[trained, StochasticWeightAveraging(3, state), seen])
    for epoch in range(5):
        expected = (trained.at_end[epoch] if epoch < 2 else
                    [np.mean([trained.at_end[e][i] for e in range(2, epoch + 1)], axis=0) for i in range(2)])
        for got, want in zip(seen.at_end[epoch], expected):
            np.testing.assert_allclose(got, want, rtol=1e-6)
        if epoch:
            for got, want in zip(seen.at_begin[epoch], trained.at_end[epoch - 1]):
                np.testing.assert_array_equal(got, want)
    assert not np.allclose(seen.at_end[4][0], trained.at_end[4][0])
    assert not state.exists()  # a finished fit leaves no state


@pytest.mark.parametrize("kill_at", [2, 3])
def test_weight_averaging_resumes_without_counting_an_epoch_twice(tmp_path, kill_at):
    """Killed at the end of an epoch the average has taken in but the backup has not: the resumed run trains
    that epoch again and ends with the uninterrupted run's average."""
    from ravdess_tf.training.resume import DeferredBackup
    from ravdess_tf.training.weight_averaging import StochasticWeightAveraging

    x = np.random.default_rng(1).normal(size=(32, 4)).astype("float32")
    y = (x[:, 1] > 0).astype("int32")

    def fit(folder, last):
        model = _dense_model()
        model.fit(x, y, epochs=5, batch_size=8, shuffle=False, verbose=0,
                  callbacks=[StochasticWeightAveraging(2, folder / "average.npz"),
                             DeferredBackup(folder / "backup"), last])
        return last

    whole = fit(tmp_path / "whole", _Weights())
    with pytest.raises(KeyboardInterrupt):
        fit(tmp_path / "killed", _Weights(kill_at=kill_at))
    assert (tmp_path / "killed" / "average.npz").is_file()
    resumed = fit(tmp_path / "killed", _Weights())
    assert sorted(resumed.at_end) == list(range(kill_at, 5))
    for got, want in zip(resumed.at_end[4], whole.at_end[4]):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


def test_weight_averaging_in_a_run(final_split, tmp_path):
    """``swa_start_epoch`` keeps the average: a final model (no validation clips: the last epoch's is kept)
    differs from the plain run's, and the run folder keeps no averaging state once finished."""
    config = {**TINY, "epochs": 3}
    plain = train("lstm", final_split, TrainConfig(**config), run_dir=tmp_path / "plain",
                  cache_dir=tmp_path / "cache", verbose=0)
    averaged = train("lstm", final_split, TrainConfig(**config, swa_start_epoch=2), run_dir=tmp_path / "swa",
                     cache_dir=tmp_path / "cache", verbose=0)
    assert averaged["best_epoch"] == plain["best_epoch"] == 3
    weights = [keras.models.load_model(tmp_path / name / "best.keras").get_weights() for name in ("plain", "swa")]
    assert any(not np.allclose(a, b) for a, b in zip(*weights))
    assert not (tmp_path / "swa" / "weight_average.npz").exists()


def test_final_model_without_validation(final_split, tmp_path):
    result = train("lstm", final_split, TrainConfig(**TINY), run_dir=tmp_path / "final",
                   cache_dir=tmp_path / "cache", verbose=0)
    assert result["best_epoch"] == 2 and "test" not in result
    assert (tmp_path / "final" / "best.keras").is_file()


def test_train_rejects_bad_split(split, tmp_path):
    with pytest.raises(ParameterError, match="split needs the parts"):
        train("lstm", {"train": split["train"]}, run_dir=tmp_path / "x")
    with pytest.raises(ParameterError, match="Unknown model"):
        train("cnn", split, run_dir=tmp_path / "x")


def test_speaker_normalization_in_training_and_prediction(synthetic_root, tmp_path):
    """Each part is normalised per actor; predicting one actor's files together gives the same probabilities."""
    from ravdess_tf.inference import load_run

    metadata = ravdess_tf.load_metadata(synthetic_root)
    by_actor = {actor: metadata[metadata["actor"] == actor] for actor in (1, 2)}
    split = {"train": by_actor[1], "validation": by_actor[2], "test": metadata.iloc[:0]}
    config = TrainConfig(optimizer="lbfgs", speaker_normalization=True, features={"n_mels": 16, "hop_length": 1024})
    run_dir = tmp_path / "speaker"
    result = train("pooled", split, config, run_dir=run_dir, cache_dir=tmp_path / "cache", verbose=0)
    assert result["features"].endswith("+speaker-norm")

    predictor = load_run(run_dir)
    assert predictor.speaker_normalization
    saved = pd.read_csv(run_dir / "predictions_validation.csv")
    predicted = predictor.predict(by_actor[2]["path"])
    np.testing.assert_allclose(predicted[list(ravdess_tf.EMOTIONS)].to_numpy(),
                               saved[[f"p_{e}" for e in ravdess_tf.EMOTIONS]].to_numpy(), atol=1e-4)
    with pytest.raises(ParameterError, match="at least 8 files of one speaker"):
        predictor.predict(by_actor[2]["path"][:3])

    paper = ravdess_tf.make_split(metadata, "paper", seed=0)  # a few clips of each actor per part
    with pytest.raises(ParameterError, match="per-speaker normalisation needs at least 8 clips"):
        train("pooled", paper, config, run_dir=tmp_path / "paper", cache_dir=tmp_path / "cache", verbose=0)


def test_the_svm_baseline_is_a_run_like_the_networks(split, tmp_path):
    """Chosen on validation, saved, and evaluated into the same files; no Keras model to load."""
    run_dir = tmp_path / "svm"
    config = preset_config("quick", "svm", features=TINY["features"])
    result = train("svm", split, config, run_dir=run_dir, cache_dir=tmp_path / "cache", verbose=0,
                   description={"protocol": "paper", "fold": "test"})
    for name in ("svm.joblib", "history.csv", "selection.json", "predictions_test.csv", "metrics.json"):
        assert (run_dir / name).is_file(), name
    assert not (run_dir / "best.keras").exists()
    history = pd.read_csv(run_dir / "history.csv")
    selection = json.loads((run_dir / "selection.json").read_text())
    assert list(history.C) == [0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0]
    assert selection["C"] == history.loc[history.val_macro_f1.idxmax(), "C"]
    assert result["backend"] == "scikit-learn" and result["device"].startswith("cpu:")
    predictions = pd.read_csv(run_dir / "predictions_test.csv")
    assert set(np.unique(predictions.filter(regex="^p_").to_numpy())) <= {0.0, 1.0}  # its decision, one-hot
    assert (predictions.filter(regex="^p_").sum(axis=1) == 1).all()
    assert "svm" in PRESETS["quick"]["study"] and "svm" in PRESETS["full"]["study"]


def test_the_svm_baseline_needs_validation_clips(split, tmp_path):
    final = {**split, "validation": split["validation"].iloc[:0], "test": split["test"].iloc[:0]}
    with pytest.raises(ParameterError, match="chooses its C on validation"):
        train("svm", final, preset_config("quick", "svm", features=TINY["features"]), run_dir=tmp_path / "svm",
              cache_dir=tmp_path / "cache", verbose=0)
    assert not (tmp_path / "svm").exists()  # refused at the door


def test_predict_refuses_an_svm_run_by_name(split, tmp_path):
    run_dir = tmp_path / "svm"
    train("svm", split, preset_config("quick", "svm", features=TINY["features"]), run_dir=run_dir,
          cache_dir=tmp_path / "cache", verbose=0)
    with pytest.raises(ParameterError, match="SVM baseline"):
        ravdess_tf.load_run(run_dir)


def test_the_cpu_is_named_with_its_widest_vector_unit():
    """Two 2-core CPUs trained the same model at several-fold different speeds: the results tell them apart."""
    assert widest_vector_unit({"sse2", "avx", "avx2", "fma"}) == "AVX2"
    assert widest_vector_unit({"avx2", "avx512f", "avx512_bf16"}) == "AVX-512 BF16"
    assert widest_vector_unit({"avx2", "avx512f", "avx512_bf16", "amx_bf16"}) == "AMX"
    assert widest_vector_unit({"neon", "asimd"}) is None
    assert describe_cpu().startswith("cpu:")
