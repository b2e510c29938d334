import json
import subprocess
import sys

import pandas as pd
import pytest

from ravdess_tf.cli import main

from conftest import write_tone

COMMANDS = ("download", "features", "train", "evaluate", "study", "predict")


@pytest.mark.parametrize("command", COMMANDS)
def test_help_explains_each_command(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: ravdess-tf " + command in capsys.readouterr().out


def test_module_entry_point():
    out = subprocess.run([sys.executable, "-m", "ravdess_tf", "--help"], capture_output=True, text=True,
                         check=True).stdout
    assert all(command in out for command in COMMANDS)


@pytest.fixture(scope="module")
def trained_run(synthetic_root, tmp_path_factory):
    """A quick LSTM run on the synthetic clips, made through the command line."""
    run_dir = tmp_path_factory.mktemp("runs") / "lstm"
    code = main(["train", "--model", "lstm", "--protocol", "paper", "--preset", "quick", "--epochs", "1",
                 "--data-dir", str(synthetic_root), "--cache-dir", str(run_dir.parent / "cache"),
                 "--run-dir", str(run_dir), "--verbose", "0"])
    assert code == 0
    return run_dir


def test_train_then_evaluate(trained_run, capsys):
    assert (trained_run / "metrics.json").is_file()
    assert main(["evaluate", str(trained_run)]) == 0
    out = capsys.readouterr().out
    assert "f1_macro" in out and "intensity" in out
    assert (trained_run / "figures" / "confusion_test_counts.png").is_file()


def test_train_refuses_to_overwrite_a_finished_run(trained_run, synthetic_root, capsys):
    code = main(["train", "--model", "lstm", "--protocol", "paper", "--epochs", "1",
                 "--data-dir", str(synthetic_root), "--run-dir", str(trained_run), "--verbose", "0"])
    assert code == 2
    assert "finished run" in capsys.readouterr().err


def test_predict_stereo_44k_file_as_json(trained_run, tmp_path, capsys):
    clip = write_tone(tmp_path / "my voice.wav", 2.0, rate=44_100, channels=2)
    assert main(["predict", str(clip), "--model", str(trained_run), "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert records[0]["path"] == str(clip)
    assert records[0]["emotion"] in records[0]
    assert sum(records[0][e] for e in ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust",
                                        "surprised")) == pytest.approx(1, abs=1e-4)


@pytest.mark.parametrize("argv, message", [
    (["predict", "no/such/file.wav"], "No such audio file: no/such/file.wav"),
    (["evaluate", "no/such/run"], "no predictions_test.csv"),
    (["features", "--data-dir", "no/such/folder"], "does not exist"),
    (["train", "--model", "lstm", "--protocol", "actor_cv", "--data-dir", "."], "needs fold in 0..5"),
])
def test_bad_paths_and_options(argv, message, capsys, tmp_path, monkeypatch):
    if argv[0] == "train":
        (tmp_path / "03-01-01-01-01-01-01.wav").touch()
        argv = [*argv[:-1], str(tmp_path)]
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_train_speaker_norm_on_a_split_with_few_clips_per_actor(synthetic_root, tmp_path, capsys):
    code = main(["train", "--model", "lstm", "--protocol", "paper", "--preset", "quick", "--epochs", "1",
                 "--speaker-norm", "--data-dir", str(synthetic_root), "--cache-dir", str(tmp_path / "cache"),
                 "--run-dir", str(tmp_path / "run"), "--verbose", "0"])
    assert code == 2
    assert "per-speaker normalisation needs at least 8 clips" in capsys.readouterr().err


def test_predict_with_a_folder_that_is_not_a_run(tmp_path, capsys):
    clip = write_tone(tmp_path / "a.wav", 1.0)
    assert main(["predict", str(clip), "--model", str(tmp_path)]) == 2
    assert "is not a finished training run" in capsys.readouterr().err


@pytest.mark.realdata
def test_real_quick_study_of_one_model(real_metadata, tmp_path, capsys):
    """The main job on the real data, one small model on the actor split."""
    root = str(real_metadata["path"].iloc[0]).rsplit("/Actor_", 1)[0]
    code = main(["study", "--preset", "quick", "--models", "lstm", "--protocols", "actor",
                 "--data-dir", root, "--runs-dir", str(tmp_path / "runs"),
                 "--results-dir", str(tmp_path / "results"), "--figures-dir", str(tmp_path / "figures"),
                 "--verbose", "0"])
    assert code == 0
    metrics = pd.read_csv(tmp_path / "results" / "metrics.csv")
    assert metrics[["model", "protocol", "fold"]].values.tolist() == [["lstm", "actor", "test"]]
    assert metrics.loc[0, "f1_macro"] > 0.2  # chance is 0.125 for 8 emotions
    assert (tmp_path / "figures" / "comparison.png").is_file()
    assert "![comparison](../figures/comparison.png)" in (tmp_path / "results" / "README.md").read_text()
    assert "Tables:" in capsys.readouterr().out
