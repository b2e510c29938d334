"""Tests of ravdess_tf.robustness: each condition does what it says; the protocol scores agreement."""

import numpy as np
import pandas as pd
import pytest
import soundfile

from ravdess_tf.audio import speech_level

from ravdess_tf.features import FeatureConfig
from ravdess_tf.spectrogram import SpectrogramExtractor
from ravdess_tf.robustness import (CONDITIONS, SAMPLE_RATE, add_noise, delay, evaluate_robustness, gain,
                                   peak_normalise, telephone)


def _speech_like(seconds=3.0, pitch=150, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    voiced = sum(np.sin(2 * np.pi * k * pitch * t) / k for k in range(1, 8))
    return (0.02 * voiced * np.clip(np.sin(2 * np.pi * 3 * t), 0, None)
            + 1e-4 * rng.standard_normal(len(t))).astype(np.float32)


def test_conditions_do_what_they_say():
    audio = _speech_like()
    level = speech_level(audio, SAMPLE_RATE)
    assert speech_level(gain(-20)(audio, None), SAMPLE_RATE) == pytest.approx(level - 20, abs=0.01)
    assert np.abs(peak_normalise(audio)).max() == pytest.approx(1.0)
    noisy = add_noise("white", 10)(audio, None)
    noise = noisy - audio
    assert 10 * np.log10(np.mean(noise ** 2)) == pytest.approx(level - 10, abs=0.01)
    babble = _speech_like(5.0, pitch=220, seed=1)
    assert 10 * np.log10(np.mean((add_noise("babble", 5)(audio, babble) - audio) ** 2)) == pytest.approx(level - 5, abs=0.01)
    narrow = telephone(audio)
    spectrum = np.abs(np.fft.rfft(narrow)) ** 2
    frequencies = np.fft.rfftfreq(len(narrow), 1 / SAMPLE_RATE)
    assert len(narrow) == len(audio) and spectrum[frequencies > 4200].sum() < 1e-3 * spectrum.sum()
    delayed = delay(0.5)(audio, None)
    assert len(delayed) == len(audio) and np.array_equal(delayed[8000:], audio[:-8000]) and not delayed[:8000].any()
    assert [c.name for c in CONDITIONS][0] == "as recorded" and len({c.name for c in CONDITIONS}) == len(CONDITIONS)


class LoudestBand:
    """A stand-in model on level-normalised log-mel: the emotion is the loudest band's index modulo 8."""

    name = "loudest band"

    def __init__(self):
        self.extractor = SpectrogramExtractor(FeatureConfig(n_mels=32))

    def predict_audio(self, recordings):
        bands = [int(np.argmax(self.extractor(audio).mean(axis=1))) % 8 for audio in recordings]
        return np.eye(8)[bands]


def test_level_normalised_model_agrees_under_every_gain(tmp_path):
    paths = []
    for index in range(6):
        path = tmp_path / f"clip{index}.wav"
        soundfile.write(path, _speech_like(pitch=120 + 40 * index, seed=index), SAMPLE_RATE)
        paths.append(str(path))
    clips = pd.DataFrame({"path": paths, "emotion_id": [int(b) for b in LoudestBand().predict_audio(
        [_speech_like(pitch=120 + 40 * i, seed=i) for i in range(6)]).argmax(axis=1)]})
    table = evaluate_robustness(LoudestBand(), clips, babble_from=clips, progress=False).set_index("condition")
    assert table.loc["as recorded", "accuracy"] == 1.0 and table.loc["as recorded", "agreement"] == 1.0
    for condition in ("gain -30 dB", "gain -20 dB", "gain +20 dB", "peak-normalised"):
        assert table.loc[condition, "agreement"] == 1.0, condition
    assert set(table["group"]) == {"reference", "level", "noise", "channel", "timing"}
