"""Tests of ravdess_tf.corpus on synthetic corpora (no other corpus is needed)."""

import numpy as np
import pandas as pd
import pytest
import soundfile

from ravdess_tf.cli import main
from ravdess_tf.corpus import NAME_RULES, evaluate_corpus, load_corpus
from ravdess_tf.data import EMOTIONS
from ravdess_tf.exceptions import ParameterError


def _write(path, seconds=1.5, level=0.05, seed=0):
    t = np.arange(int(seconds * 16_000)) / 16_000
    audio = level * np.sin(2 * np.pi * (150 + 10 * seed) * t) * np.clip(np.sin(2 * np.pi * 3 * t), 0, None)
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, audio.astype(np.float32), 16_000)
    return path


@pytest.mark.parametrize("rule, name, label", [
    ("emodb", "03a01Fa", "happy"), ("emodb", "03a01Wa", "angry"), ("emodb", "08b02La", "boredom"),
    ("crema-d", "1001_DFA_ANG_XX", "angry"), ("crema-d", "1091_TSI_NEU_XX", "neutral"),
    ("tess", "OAF_back_ps", "surprised"), ("tess", "YAF_dog_fear", "fearful"),
    ("savee", "DC_sa03", "sad"), ("savee", "JE_su12", "surprised"), ("savee", "KL_a01", "angry"),
])
def test_name_rules(rule, name, label):
    assert NAME_RULES[rule](name) == label


def test_load_corpus_keeps_ravdess_emotions(tmp_path):
    for index, name in enumerate(["03a01Fa", "03a01Wa", "08b02La", "11a04Ta", "notes"]):
        _write(tmp_path / "emodb" / f"{name}.wav", seed=index)
    clips, left_out = load_corpus(tmp_path / "emodb", rule="emodb")
    assert clips["emotion"].tolist() == ["happy", "angry", "sad"]
    assert clips["emotion_id"].tolist() == [EMOTIONS.index(e) for e in ("happy", "angry", "sad")]
    assert left_out.to_dict() == {"boredom": 1, "(no label)": 1}


def test_load_corpus_from_csv_and_bad_input(tmp_path):
    _write(tmp_path / "c" / "a.wav")
    _write(tmp_path / "c" / "b.wav", seed=1)
    pd.DataFrame({"path": ["a.wav", "b.wav"], "emotion": ["sad", "bored"]}).to_csv(tmp_path / "labels.csv", index=False)
    clips, left_out = load_corpus(tmp_path / "c", labels=tmp_path / "labels.csv")
    assert clips["emotion"].tolist() == ["sad"] and left_out.to_dict() == {"bored": 1}
    with pytest.raises(ParameterError, match="either a file-name rule"):
        load_corpus(tmp_path / "c")
    with pytest.raises(ParameterError, match="unknown corpus rule 'iemocap'"):
        load_corpus(tmp_path / "c", rule="iemocap")
    pd.DataFrame({"path": ["missing.wav"], "emotion": ["sad"]}).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ParameterError, match="do not exist"):
        load_corpus(tmp_path / "c", labels=tmp_path / "bad.csv")


class FixedPredictor:
    """Answers each file with given probabilities: for checking the scoring."""

    name = "fixed"

    def __init__(self, probabilities):
        self.probabilities = probabilities

    def predict(self, paths, progress=False):
        table = pd.DataFrame({"path": [str(p) for p in paths], "no_speech": [p.endswith("silent.wav") for p in map(str, paths)]})
        for index, emotion in enumerate(EMOTIONS):
            table[emotion] = [self.probabilities[p.split("/")[-1]][index] for p in map(str, paths)]
        return table


def test_evaluate_corpus_scores_shared_and_eight_way():
    clips = pd.DataFrame({"path": ["x/angry1.wav", "x/angry2.wav", "x/sad1.wav", "x/silent.wav"],
                          "emotion": ["angry", "angry", "sad", "sad"]})
    clips["emotion_id"] = clips["emotion"].map(EMOTIONS.index)
    def one_hot_ish(first, second):  # most on `first`, a little on `second`
        p = np.full(8, 0.01)
        p[EMOTIONS.index(first)], p[EMOTIONS.index(second)] = 0.6, 0.3
        return p / p.sum()
    predictor = FixedPredictor({"angry1.wav": one_hot_ish("angry", "sad"), "angry2.wav": one_hot_ish("calm", "sad"),
                                "sad1.wav": one_hot_ish("calm", "sad"), "silent.wav": np.full(8, np.nan)})
    report = evaluate_corpus(predictor, clips)
    assert report.shared == ("sad", "angry") and report.no_speech == 1
    shared, eight = report.metrics.iloc[0], report.metrics.iloc[1]
    # Restricted to sad/angry: angry1 -> angry, angry2 -> sad, sad1 -> sad: 2 of 3 right.
    assert shared.accuracy == pytest.approx(2 / 3) and shared.clips == 3
    # 8-way: angry1 -> angry, angry2 -> calm, sad1 -> calm: 1 of 3 right.
    assert eight.accuracy == pytest.approx(1 / 3)
    assert eight.f1_macro == pytest.approx(np.mean([2 / 3, 0.0]))  # angry: P 1, R 1/2; sad: none found
    assert report.confusion.loc["angry", "calm"] == 1 and report.confusion.loc["sad", "calm"] == 1
    assert list(report.predictions["predicted_shared"]) == ["angry", "sad", "sad"]


def test_evaluate_corpus_cli_on_a_synthetic_corpus(tmp_path, capsys):
    for index, name in enumerate(["1001_DFA_ANG_XX", "1001_DFA_SAD_XX", "1002_IEO_HAP_HI", "1002_IEO_NEU_XX"]):
        _write(tmp_path / "crema" / f"{name}.wav", seconds=3.0, seed=index)
    out = tmp_path / "out"
    assert main(["evaluate-corpus", str(tmp_path / "crema"), "--rule", "crema-d", "--pretrained", "logmel",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "emotions shared with RAVDESS: neutral, happy, sad, angry" in printed
    assert (out / "confusion.png").is_file() and len(pd.read_csv(out / "predictions.csv")) == 4
    assert list(pd.read_csv(out / "metrics.csv")["clips"]) == [4, 4]
