import numpy as np
import pytest

from ravdess_tf.exceptions import ParameterError
from ravdess_tf.batches import ArrayBatches, make_dataset
from ravdess_tf.pipeline import (MIN_SPEAKER_CLIPS, AugmentConfig, Normalizer, augment_batch,
                                 fit_normalizer, mixup_batch, normalize_per_speaker)


@pytest.fixture
def arrays():
    rng = np.random.default_rng(0)
    features = (rng.normal(-40, 10, (10, 16, 30)) + np.arange(16)[None, :, None]).astype(np.float32)
    labels = np.arange(10) % 8
    return features, labels


def test_normalizer_uses_training_statistics(arrays):
    features, _ = arrays
    normalizer = fit_normalizer(features)
    standardised = normalizer(features)
    assert np.allclose(standardised.mean(axis=(0, 2)), 0, atol=1e-4)
    assert np.allclose(standardised.std(axis=(0, 2)), 1, atol=1e-3)
    assert Normalizer.from_dict(normalizer.to_dict()).mean.shape == (16, 1)
    shifted = normalizer(features + 5)
    assert shifted.mean() > 0.3  # other data is not re-centred on itself


def test_normalize_per_speaker_removes_each_speakers_voice():
    rng = np.random.default_rng(1)
    voice = rng.normal(0, 1, (MIN_SPEAKER_CLIPS, 16, 30)).astype(np.float32)
    # The second speaker says the same with a louder, differently coloured voice.
    features = np.concatenate([voice, 3 * voice + np.arange(16)[None, :, None]])
    speakers = np.repeat(["a", "b"], MIN_SPEAKER_CLIPS)
    normalized = normalize_per_speaker(features, speakers)
    np.testing.assert_allclose(normalized[:MIN_SPEAKER_CLIPS], normalized[MIN_SPEAKER_CLIPS:], atol=1e-4)
    for speaker in ("a", "b"):
        part = normalized[speakers == speaker]
        assert np.allclose(part.mean(axis=(0, 2)), 0, atol=1e-4)
        assert np.allclose(part.std(axis=(0, 2)), 1, atol=1e-3)
    assert normalized.dtype == np.float32 and features[MIN_SPEAKER_CLIPS:].mean() > 5  # input untouched
    with pytest.raises(ParameterError, match="speaker 'b' has 1 clips"):
        normalize_per_speaker(features[:MIN_SPEAKER_CLIPS + 1], speakers[:MIN_SPEAKER_CLIPS + 1])
    with pytest.raises(ParameterError, match="one speaker per clip"):
        normalize_per_speaker(features, speakers[:3])


def test_augment_batch_changes_copy_and_is_seeded(arrays):
    features, _ = arrays
    batch = fit_normalizer(features)(features)
    first = augment_batch(batch, np.random.default_rng(1))
    assert first.shape == batch.shape and not np.array_equal(first, batch)
    assert np.array_equal(first, augment_batch(batch, np.random.default_rng(1)))
    assert np.array_equal(batch, fit_normalizer(features)(features))  # input untouched
    masked = augment_batch(batch, np.random.default_rng(2),
                           AugmentConfig(freq_masks=1, freq_mask_width=16, time_masks=0, max_shift=0,
                                         noise_std=0))
    assert (masked == 0).any()


def test_augmentation_strength_follows_its_config(arrays):
    features, _ = arrays
    batch = fit_normalizer(features)(features) + 10.0  # no value is 0 but a mask's
    nothing = AugmentConfig(freq_masks=0, time_masks=0, max_shift=0, noise_std=0)
    assert np.array_equal(augment_batch(batch, np.random.default_rng(0), nothing), batch)
    masked_cells = [(augment_batch(batch, np.random.default_rng(seed), AugmentConfig(
        freq_masks=masks, time_masks=masks, max_shift=0, noise_std=0)) == 0).sum()
        for masks in (1, 3) for seed in range(20)]
    assert sum(masked_cells[20:]) > sum(masked_cells[:20])  # three masks of each kind hide more than one


@pytest.mark.parametrize("options, message", [
    ({"freq_masks": -1}, "freq_masks must be an integer >= 0, got -1"),
    ({"time_mask_width": True}, "time_mask_width must be an integer >= 0, got True"),
    ({"max_shift": 1.0}, "max_shift must be a fraction of the frames in \\[0, 1\\), got 1.0"),
    ({"noise_std": -0.1}, "noise_std must be a number >= 0"),
])
def test_augment_config_rejects(options, message):
    with pytest.raises(ParameterError, match=message):
        AugmentConfig(**options)


def test_make_dataset_batches(arrays):
    features, labels = arrays
    dataset = make_dataset(features, labels, batch_size=4, shuffle=True, augment=True, seed=0)
    batches = list(dataset.as_numpy_iterator())
    assert [x.shape for x, _ in batches] == [(4, 16, 30, 1), (4, 16, 30, 1), (2, 16, 30, 1)]
    assert batches[0][0].dtype == np.float32 and batches[0][1].dtype == np.int32
    assert sorted(np.concatenate([y for _, y in batches]).tolist()) == sorted(labels.tolist())


def test_array_batches_match_dataset_without_augmentation(arrays):
    features, labels = arrays
    normalizer = fit_normalizer(features)
    tf_batches = list(make_dataset(features, labels, batch_size=4, normalizer=normalizer).as_numpy_iterator())
    py_batches = ArrayBatches(features, labels, batch_size=4, normalizer=normalizer)
    assert len(py_batches) == len(tf_batches) == 3
    for (x_tf, y_tf), index in zip(tf_batches, range(3)):
        x_py, y_py = py_batches[index]
        assert np.allclose(x_tf, x_py) and np.array_equal(y_tf, y_py)
    shuffled = ArrayBatches(features, labels, batch_size=10, shuffle=True, augment=True, seed=0)
    x, y = shuffled[0]
    assert x.shape == (10, 16, 30, 1) and sorted(y.tolist()) == sorted(labels.tolist())


def test_mixup_mixes_inputs_and_labels_by_one_weight():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 4, 5)).astype(np.float32)
    y = np.eye(8, dtype=np.float32)[[0, 1, 2, 3, 4, 5]]
    mixed_x, mixed_y = mixup_batch(x, y, np.random.default_rng(1), alpha=0.4)
    assert mixed_x.shape == x.shape and mixed_y.shape == y.shape
    np.testing.assert_allclose(mixed_y.sum(axis=1), 1, atol=1e-6)
    for row in range(6):  # each row is lam * its own clip + (1 - lam) * one partner's, the labels alike
        own = mixed_y[row, row]
        partner = np.argmax(np.where(np.arange(8) == row, -1, mixed_y[row]))
        expected = x[row] if own == 1 else own * x[row] + mixed_y[row, partner] * x[partner]
        np.testing.assert_allclose(mixed_x[row], expected, atol=1e-5)
    again = mixup_batch(x, y, np.random.default_rng(1), alpha=0.4)
    assert np.array_equal(again[0], mixed_x)  # seeded
    with pytest.raises(ParameterError, match="alpha must be positive"):
        mixup_batch(x, y, rng, alpha=0)
    with pytest.raises(ParameterError, match="one-hot labels"):
        mixup_batch(x, np.arange(6), rng, alpha=0.2)


def test_array_batches_give_one_hot_and_mixed_labels(arrays):
    features, labels = arrays
    plain = ArrayBatches(features, labels, batch_size=4, shuffle=True, augment=True, seed=3)
    one_hot = ArrayBatches(features, labels, batch_size=4, shuffle=True, augment=True, seed=3, num_classes=8)
    (x, y), (x_hot, y_hot) = plain[0], one_hot[0]
    assert np.array_equal(x, x_hot) and y_hot.shape == (4, 8) and np.array_equal(y_hot.argmax(axis=1), y)
    mixed = ArrayBatches(features, labels, batch_size=4, shuffle=True, augment=True, seed=3, num_classes=8,
                         mixup_alpha=0.2)
    x_mix, y_mix = mixed[0]
    assert not np.array_equal(x_mix, x) and np.allclose(y_mix.sum(axis=1), 1)
    with pytest.raises(ParameterError, match="give num_classes too"):
        ArrayBatches(features, labels, mixup_alpha=0.2)
    with pytest.raises(ParameterError, match="num_classes must be an integer above every label"):
        ArrayBatches(features, labels, num_classes=4)


@pytest.mark.parametrize("features, labels, batch_size, message", [
    (np.zeros((4, 16)), np.zeros(4), 2, "shape \\(clips, n_features, frames\\)"),
    (np.zeros((4, 16, 30)), np.zeros(3), 2, "labels must have shape \\(4,\\)"),
    (np.zeros((4, 16, 30)), np.zeros(4), 0, "batch_size must be a positive integer"),
])
def test_bad_inputs(features, labels, batch_size, message):
    with pytest.raises(ParameterError, match=message):
        make_dataset(features, labels, batch_size=batch_size)
    with pytest.raises(ParameterError, match=message):
        ArrayBatches(features, labels, batch_size=batch_size)
