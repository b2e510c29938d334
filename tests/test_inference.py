import json

import numpy as np
import pytest

import ravdess_tf
from ravdess_tf.cli import main
from ravdess_tf.inference import PRETRAINED_DIR

from conftest import write_tone


def test_bundled_model_is_small_and_documented():
    files = {p.name for p in PRETRAINED_DIR.iterdir()}
    assert {"best.keras", "config.json", "normalizer.json", "README.md"} <= files
    assert (PRETRAINED_DIR / "best.keras").stat().st_size < 10 * 1024 * 1024
    readme = (PRETRAINED_DIR / "README.md").read_text()
    assert "ravdess-tf train" in readme and "macro-F1" in readme


def test_load_pretrained_predicts_probabilities(tmp_path):
    predictor = ravdess_tf.load_pretrained()
    clips = [write_tone(tmp_path / "a.wav", 3.5, rate=44_100, channels=2, seed=1),
             write_tone(tmp_path / "b.flac", 1.0, rate=8_000, seed=2)]
    table = predictor.predict(clips)
    probabilities = table[list(ravdess_tf.EMOTIONS)].to_numpy()
    assert probabilities.shape == (2, 8)
    assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-4)
    assert set(table["emotion"]) <= set(ravdess_tf.EMOTIONS)


def test_predict_uses_the_bundled_model_by_default(tmp_path, capsys):
    clip = write_tone(tmp_path / "stereo.wav", 3.0, rate=44_100, channels=2)
    assert main(["predict", str(clip), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["path"] == str(clip)


@pytest.mark.realdata
def test_bundled_model_recognises_real_clips(real_metadata):
    """Trained on all 24 actors, so these clips were seen in training: a sanity check, not a score."""
    sample = real_metadata.iloc[::30]
    table = ravdess_tf.load_pretrained().predict(sample["path"])
    assert (table["emotion"].to_numpy() == sample["emotion"].to_numpy()).mean() > 0.5


def test_saved_custom_layers_load_in_a_fresh_process():
    """Custom layers (positions, ImageNet scaling) must register without building a model first."""
    import subprocess
    import sys

    code = "import ravdess_tf; print(ravdess_tf.load_pretrained().model.name)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("transformer")
