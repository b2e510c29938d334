"""The study grid through Ray: the same run folders and metrics as the sequential path, a killed
worker retried, a failing run reported by name, features that travel without the audio."""

import dataclasses
import json
import os
import signal
import threading
import time

import numpy as np
import pandas as pd
import pytest

import ravdess_tf
from ravdess_tf.exceptions import ParameterError, RunsFailedError
from ravdess_tf.cache import cache_key
from ravdess_tf.features import feature_table
from ravdess_tf.report import export_runs
from ravdess_tf.study import expand_grid, run_study, sweep_summary, variant_name
from ravdess_tf.training import preset_config

#: The tiny grid: two quick models on the actor split, two epochs each.
GRID = {"preset": "quick", "models": ["transformer", "lstm"], "protocols": ["actor"], "verbose": 0,
        "overrides": {"epochs": 2}}
#: What a run's result must match between the executors (the rest: time, device, executor).
SAME = ("model", "protocol", "fold", "seed", "features", "backend", "epochs", "best_epoch", "parameters",
        "validation", "test")


@pytest.fixture(scope="module")
def synthetic_study(full_names_root, tmp_path_factory):
    """All 1440 RAVDESS names (empty files) and a feature cache for them in which each emotion has its
    own band of energy: training reads the cache and decodes no audio."""
    metadata = ravdess_tf.load_metadata(full_names_root)
    cache = tmp_path_factory.mktemp("cache")
    config = preset_config("quick", "transformer").feature_config()
    rng = np.random.default_rng(0)
    features = rng.normal(size=(len(metadata), *config.shape)).astype(np.float32)
    for row, emotion in enumerate(metadata["emotion_id"]):
        features[row, 8 * emotion:8 * emotion + 8] += 0.2  # weak: two epochs leave the models imperfect
    np.save(cache / f"{config.kind}-{cache_key(list(metadata['path']), config)}.npy", features)
    return metadata, cache


def test_feature_table_is_checked_by_config_and_digest(synthetic_study):
    metadata, cache = synthetic_study
    config = preset_config("quick", "transformer").feature_config()
    table = feature_table(metadata, config, cache_dir=cache, progress=False)
    table.check(config)
    np.testing.assert_array_equal(table.rows(list(metadata["clip_id"][[5, 2]])), table.features[[5, 2]])
    with pytest.raises(ParameterError, match="holds logmel80"):
        table.check(preset_config("full", "transformer").feature_config())
    assert table.key == cache_key(list(metadata["path"]), config)  # the key of the cache it came from
    changed = dataclasses.replace(table, features=table.features + 1)
    with pytest.raises(ParameterError, match="does not match its digest"):
        changed.check(config)
    other_clips = dataclasses.replace(table, files=(("03-01-01-01-01-01-99.wav", 0), *table.files[1:]))
    with pytest.raises(ParameterError, match="made under another key"):
        other_clips.check(config)
    with pytest.raises(ParameterError, match="lacks 1 clips"):
        table.rows(["03-01-01-01-01-01-99"])


def _kill_first_task(killed: list, stop: threading.Event):
    """SIGKILL the first Ray worker seen running a training task (its process is named ray::train RUN)."""
    import psutil

    while not stop.is_set() and not killed:
        for process in psutil.process_iter(["pid", "cmdline"]):
            if " ".join(process.info["cmdline"] or []).startswith("ray::train "):
                os.kill(process.info["pid"], signal.SIGKILL)
                killed.append(process.info["pid"])
                return
        time.sleep(0.05)


def test_ray_grid_survives_a_killed_worker_and_matches_the_sequential_path(synthetic_study, tmp_path):
    pytest.importorskip("ray", reason='the Ray executor needs pip install "ravdess-tf[cluster]"')
    metadata, cache = synthetic_study
    start = time.perf_counter()
    sequential = run_study(metadata, runs_dir=tmp_path / "sequential", cache_dir=cache, **GRID)
    sequential_seconds = time.perf_counter() - start

    killed, stop = [], threading.Event()
    killer = threading.Thread(target=_kill_first_task, args=(killed, stop))
    killer.start()
    try:
        start = time.perf_counter()
        distributed = run_study(metadata, runs_dir=tmp_path / "ray", cache_dir=cache, executor="ray", **GRID)
        ray_seconds = time.perf_counter() - start
    finally:
        stop.set()
        killer.join()
    print(f"tiny grid: sequential {sequential_seconds:.0f} s, Ray {ray_seconds:.0f} s (one worker killed)")
    assert len(killed) == 1, "no training task was seen to kill"
    for one, other in zip(sequential, distributed):
        assert {key: one[key] for key in SAME} == {key: other[key] for key in SAME}
        assert (one["executor"], other["executor"]) == ("sequential", "ray")

    variant = variant_name("quick", GRID["overrides"])
    folders = {name: sorted(p.name for p in (tmp_path / name / variant).iterdir()) for name in ("sequential", "ray")}
    assert folders["sequential"] == folders["ray"] == ["lstm-actor", "transformer-actor"]  # no staging left
    for run in folders["ray"]:
        files = sorted(p.name for p in (tmp_path / "ray" / variant / run).iterdir())
        assert files == sorted(p.name for p in (tmp_path / "sequential" / variant / run).iterdir())
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "ray" / variant / run / "predictions_test.csv"),
                                      pd.read_csv(tmp_path / "sequential" / variant / run / "predictions_test.csv"))

    def table(name):
        runs = [{**result, "preset": variant, "run_dir": tmp_path / name / variant / f"{result['model']}-actor"}
                for result in (sequential if name == "sequential" else distributed)]
        return export_runs(runs, tmp_path / f"results-{name}").drop(columns=["train_seconds", "executor"])

    pd.testing.assert_frame_equal(table("sequential"), table("ray"))
    assert set(pd.read_csv(tmp_path / "results-ray" / "metrics.csv")["executor"]) == {"ray"}

    again = run_study(metadata, runs_dir=tmp_path / "ray", cache_dir=cache, executor="ray", **GRID)
    assert [r["test"] for r in again] == [r["test"] for r in distributed]  # finished runs are skipped


def test_a_failing_run_is_reported_by_name_and_leaves_no_run_folder(synthetic_study, tmp_path):
    pytest.importorskip("ray", reason='the Ray executor needs pip install "ravdess-tf[cluster]"')
    metadata, cache = synthetic_study
    grid = {**GRID, "models": ["transformer"], "overrides": {"epochs": 1, "model_options.no_such_option": 3}}
    with pytest.raises(RunsFailedError, match="transformer-actor: .*no_such_option") as failure:
        run_study(metadata, runs_dir=tmp_path, cache_dir=cache, executor="ray", **grid)
    assert len(failure.value.failures) == 1
    variant = variant_name("quick", grid["overrides"])
    assert not (tmp_path / variant / "transformer-actor").exists()


def test_a_recipe_that_reads_audio_gets_no_feature_table(synthetic_study, tmp_path, monkeypatch):
    """Augmented copies (or several windows) are made where the run trains, from the audio: no table is sent."""
    from ravdess_tf import executors

    metadata, cache = synthetic_study
    sent = {}

    def record(metadata, preset, variant, runs, runs_dir, tables, **options):
        sent.update(tables)
        return [{"test": {}} for _ in runs]

    monkeypatch.setattr(executors, "run_with_ray", record)
    run_study(metadata, runs_dir=tmp_path, cache_dir=cache, executor="ray",
              **{**GRID, "overrides": {"epochs": 1, "augmented_copies": True}})
    assert sent == {"transformer": None, "lstm": None}
    run_study(metadata, runs_dir=tmp_path, cache_dir=cache, executor="ray", **GRID)
    assert sent["transformer"] is sent["lstm"] and sent["lstm"].config == preset_config("quick", "lstm").feature_config()


def test_sweep_is_chosen_on_validation(tmp_path):
    grid = expand_grid({"learning_rate": [1e-3, 3e-4], "augment": [True, False]})
    assert len(grid) == 4 and grid[0] == {"learning_rate": 1e-3, "augment": True}
    for overrides, (validation, test) in zip(grid, [(0.5, 0.9), (0.6, 0.1), (0.4, 0.2), (0.3, 0.3)]):
        for fold in range(2):
            run = tmp_path / variant_name("quick", overrides) / f"lstm-actor_cv-fold{fold}"
            run.mkdir(parents=True)
            (run / "metrics.json").write_text(json.dumps({
                "model": "lstm", "protocol": "actor_cv", "validation": {"f1_macro": validation + 0.01 * fold},
                "test": {"f1_macro": test}}))
    summary = sweep_summary(tmp_path, "quick", grid)
    assert summary["runs"].tolist() == [2, 2, 2, 2]
    chosen = summary[summary["chosen"]]
    assert chosen["variant"].tolist() == ["quick+augment=false+learning_rate=0.001".replace("false", "False")]
    assert chosen["test_f1_macro"].item() == 0.1  # the best test score (0.9) is not what chose


def test_executor_arguments_are_checked(synthetic_study, tmp_path):
    metadata, cache = synthetic_study
    with pytest.raises(ParameterError, match="Unknown executor 'dask'"):
        run_study(metadata, runs_dir=tmp_path, executor="dask", **GRID)
    with pytest.raises(ParameterError, match="gpus_per_run"):
        run_study(metadata, runs_dir=tmp_path, executor="ray", gpus_per_run=1.5, **GRID)
    with pytest.raises(ParameterError, match="cannot vary 'lr'"):
        run_study(metadata, runs_dir=tmp_path, **{**GRID, "overrides": {"lr": 1}})


def test_workers_get_the_drivers_backend_settings(monkeypatch):
    from ravdess_tf.executors import worker_environment

    monkeypatch.setenv("KERAS_BACKEND", "jax")
    monkeypatch.setenv("JAX_DEFAULT_MATMUL_PRECISION", "float32")
    monkeypatch.setenv("XLA_PYTHON_CLIENT_PREALLOCATE", "true")
    environment = worker_environment()
    assert environment["KERAS_BACKEND"] == "jax" and environment["JAX_DEFAULT_MATMUL_PRECISION"] == "float32"
    assert environment["XLA_PYTHON_CLIENT_PREALLOCATE"] == "true"  # the driver's choice wins over the default
    assert environment["TF_FORCE_GPU_ALLOW_GROWTH"] == "true"
    assert not any(name.startswith("HOME") for name in environment)


def test_study_command_checks_vary_before_loading_data(capsys):
    from ravdess_tf.cli import main

    assert main(["study", "--vary", "learning_rate"]) == 2
    assert "--vary 'learning_rate': write KEY=VALUE1,VALUE2" in capsys.readouterr().err


@pytest.mark.parametrize("text, values", [
    ("augmented_copies=True,False", [True, False]),
    ("augmented_copies=true,false", [True, False]),
    ("ema_momentum=None,0.99", [None, 0.99]),
    ("optimizer=adamw,sgd", ["adamw", "sgd"]),
])
def test_vary_reads_python_and_json_constants(text, values):
    from ravdess_tf.cli import _vary

    assert _vary(text) == (text.partition("=")[0], values)
