import json

import numpy as np
import pytest

import ravdess_tf
from ravdess_tf.cli import main
from ravdess_tf.inference import PRETRAINED_DIR

from conftest import speech_like, write_tone


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

    code = "import ravdess_tf; print(ravdess_tf.load_pretrained(\"logmel\").model.name)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("transformer")


@pytest.fixture(scope="module")
def logmel_predictor():
    return ravdess_tf.load_pretrained("logmel")


def test_silence_gets_no_emotion(logmel_predictor, tmp_path):
    import soundfile

    soundfile.write(tmp_path / "silence.wav", np.zeros(48_000 * 3, np.int16), 48_000)
    soundfile.write(tmp_path / "hiss.wav", (1e-4 * np.random.default_rng(0).standard_normal(16_000 * 3)), 16_000)
    table = logmel_predictor.predict([tmp_path / "silence.wav", tmp_path / "hiss.wav"])
    assert table["no_speech"].tolist() == [True, True]
    assert table["emotion"].isna().all() and table[list(ravdess_tf.EMOTIONS)].isna().all().all()


def test_short_file_warns_with_its_name(logmel_predictor, tmp_path):
    import soundfile

    soundfile.write(tmp_path / "blip.wav", speech_like(0.3), 16_000)
    with pytest.warns(UserWarning, match=r"blip\.wav: only 0\.30 s of audio"):
        table = logmel_predictor.predict([tmp_path / "blip.wav"])
    assert table["emotion"].iloc[0] in ravdess_tf.EMOTIONS


def test_long_file_is_read_in_windows(logmel_predictor, tmp_path):
    import soundfile

    audio = np.concatenate([speech_like(9.0), np.zeros(16_000 * 4, np.float32), speech_like(5.0, seed=1)])
    soundfile.write(tmp_path / "long.wav", audio, 16_000)
    timeline = logmel_predictor.timeline(tmp_path / "long.wav")
    # 18 s in 3 s windows every 1.5 s: starts 0, 1.5, ..., 15
    assert timeline["start_s"].tolist() == [1.5 * i for i in range(11)]
    assert (timeline["end_s"] - timeline["start_s"]).round(3).eq(3.0).all()
    silent = timeline[(timeline.start_s >= 9.0) & (timeline.end_s <= 13.0)]
    assert len(silent) == 1 and not silent["speech"].any() and silent["emotion"].isna().all()
    spoken = timeline[timeline["speech"]]
    table = logmel_predictor.predict([tmp_path / "long.wav"])
    assert table["windows"].iloc[0] == len(spoken) == len(timeline) - 1
    means = spoken[list(ravdess_tf.EMOTIONS)].mean()
    assert np.allclose(table[list(ravdess_tf.EMOTIONS)].iloc[0], means)
    assert table["emotion"].iloc[0] == means.idxmax()


def test_recording_level_does_not_change_the_answer(tmp_path):
    """Level-normalised features: the same clip 20 dB quieter or peak-normalised gives the same features."""
    from ravdess_tf.features import FeatureConfig
    from ravdess_tf.spectrogram import SpectrogramExtractor

    extractor = SpectrogramExtractor(FeatureConfig(n_mels=80, hop_length=400))
    audio = 0.02 * speech_like(3.5)
    reference = extractor(audio)
    for scaled in (audio * 0.1, audio / np.abs(audio).max(), audio * 3):
        assert np.abs(extractor(scaled) - reference).max() < 1e-3  # dB


def test_predict_cli_is_quiet_and_says_which_model(tmp_path):
    """No TensorFlow start-up lines on stderr; the line that names the model; JSON null for silence."""
    import subprocess
    import sys

    import soundfile

    soundfile.write(tmp_path / "silence.wav", np.zeros(16_000 * 2, np.int16), 16_000)
    soundfile.write(tmp_path / "speech.wav", speech_like(3.0), 16_000)
    done = subprocess.run([sys.executable, "-m", "ravdess_tf", "predict", str(tmp_path / "silence.wav"),
                           str(tmp_path / "speech.wav"), "--pretrained", "logmel", "--json"],
                          capture_output=True, text=True, check=True)
    assert done.stderr.strip() == "Answered by: bundled log-mel transformer"
    records = json.loads(done.stdout)
    assert records[0]["no_speech"] is True and records[0]["emotion"] is None and records[0]["angry"] is None
    assert records[1]["emotion"] in ravdess_tf.EMOTIONS and records[1]["model"] == "bundled log-mel transformer"


def test_timeline_option_writes_csv(tmp_path, capsys):
    import pandas as pd
    import soundfile

    soundfile.write(tmp_path / "long.wav", speech_like(8.0), 16_000)
    assert main(["predict", str(tmp_path / "long.wav"), "--pretrained", "logmel",
                 "--timeline", str(tmp_path / "timeline.csv")]) == 0
    timeline = pd.read_csv(tmp_path / "timeline.csv")
    assert len(timeline) == 5 and timeline["path"].eq(str(tmp_path / "long.wav")).all()
    assert "[mean of 5 windows]" in capsys.readouterr().out
    assert main(["predict", str(tmp_path / "long.wav"), "--timeline", str(tmp_path / "timeline.txt")]) == 2
