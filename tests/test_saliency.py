"""Occlusion saliency: which stretch of a clip the answer rests on, and its figure."""

from dataclasses import dataclass

import numpy as np
import pytest

from ravdess_tf.data import EMOTIONS
from ravdess_tf.exceptions import ParameterError
from ravdess_tf.features import FeatureConfig
from ravdess_tf.plots import plot_saliency
from ravdess_tf.saliency import occlusion_saliency

RATE = 16_000


@dataclass
class EnergyInOneStretch:
    """A stand-in model: 'happy' as sure as the share of the clip's energy within 1.00-1.25 s."""

    feature_config: FeatureConfig = FeatureConfig()

    def predict_audio(self, recordings):
        rows = []
        for clip in recordings:
            energy = np.square(clip, dtype=np.float64)
            share = energy[RATE:RATE + RATE // 4].sum() / max(energy.sum(), 1e-12)
            row = np.full(len(EMOTIONS), (1 - share) / (len(EMOTIONS) - 1))
            row[EMOTIONS.index("happy")] = share
            rows.append(row)
        return np.array(rows)


def _noise(seconds=3.0, seed=0):
    """Noise, ten times louder from 1.00 to 1.25 s into the centred 3 s."""
    noise = 0.01 * np.random.default_rng(seed).standard_normal(int(seconds * RATE)).astype(np.float32)
    loud = int((seconds - 3.0) / 2 * RATE) + RATE
    noise[loud:loud + RATE // 4] *= 10
    return noise


def test_the_stretch_the_answer_rests_on_matters_most():
    saliency = occlusion_saliency(EnergyInOneStretch(), _noise())
    assert saliency.emotion == "happy"
    assert saliency.importance.shape == saliency.starts.shape == (12,)
    np.testing.assert_allclose(saliency.starts, np.arange(12) * 0.25)
    assert int(np.argmax(saliency.importance)) == 4  # the stretch 1.00-1.25 s
    assert saliency.importance[4] == pytest.approx(saliency.probability, abs=1e-6)  # silenced: nothing left
    others = np.delete(saliency.importance, 4)
    assert np.all(others < 0)  # silencing elsewhere raises the share of 1.00-1.25 s
    assert saliency.band_seconds == pytest.approx(0.25)


def test_the_clip_is_what_the_model_reads():
    long = _noise(seconds=5.0)
    saliency = occlusion_saliency(EnergyInOneStretch(), long)
    assert saliency.clip.shape == (3 * RATE,)  # centred 3 s, as in training
    assert saliency.sample_rate == RATE


def test_band_length_is_checked():
    with pytest.raises(ParameterError, match="band_seconds"):
        occlusion_saliency(EnergyInOneStretch(), _noise(), band_seconds=0)
    with pytest.raises(ParameterError, match="band_seconds"):
        occlusion_saliency(EnergyInOneStretch(), _noise(), band_seconds=4.0)


def test_saliency_figure_draws_the_spectrogram_and_the_importance():
    import matplotlib.pyplot as plt

    saliency = occlusion_saliency(EnergyInOneStretch(), _noise())
    figure = plot_saliency(saliency)
    spectrogram, importance = figure.axes
    assert spectrogram.images[0].get_array().shape == (128, 188)
    assert spectrogram.get_xlim() == (0.0, 3.0)
    np.testing.assert_allclose(importance.lines[0].get_ydata(), saliency.importance)
    assert "happy" in spectrogram.get_title()
    plt.close(figure)
