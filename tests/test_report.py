"""Tests of ravdess_tf.report."""

import pandas as pd

from ravdess_tf.report import describe_machines, training_time_table


def _metrics():
    return pd.DataFrame({
        "model": ["vgg16", "vgg19", "vgg19", "resnet50"],
        "device": ["cpu:2 cores x86_64", "gpu:NVIDIA H200", "gpu:NVIDIA H200", "cpu:2 cores x86_64"],
        "backend": ["tensorflow", "jax", "jax", "tensorflow"],
        "train_seconds": [3600.0, 80.4, 90.0, 1800.0],
    })


def test_describe_machines_names_every_machine_with_its_runs_and_hours():
    text = describe_machines(_metrics())
    assert text == ("cpu:2 cores x86_64 with Keras backend `tensorflow` (2 runs, 1.50 h); "
                    "gpu:NVIDIA H200 with Keras backend `jax` (2 runs, 0.05 h)")


def test_training_time_table_sums_per_model_and_machine():
    table = training_time_table(_metrics())
    assert list(table.columns) == ["model", "device", "backend", "runs", "train_seconds"]
    vgg19 = table[table.model == "vgg19"].iloc[0]
    assert (vgg19.device, vgg19.runs, vgg19.train_seconds) == ("gpu:NVIDIA H200", 2, 170)
    assert len(table) == 3
