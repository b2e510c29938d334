"""The study: every model x protocol (x fold x seed) trained, resumable, and sweeps over training settings.

Each (model, protocol, fold, seed) is one run folder under ``runs_dir``; a
run that has finished (``metrics.json``) is skipped, an unfinished one is
resumed, so the study can be stopped and started again at any time and
finish across several sessions. :mod:`ravdess_tf.report` turns the finished
runs into ``metrics.csv``, a comparison with the study's Table 2, breakdowns
and figures.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

from .atomic import write_csv, write_text
from .evaluation import to_markdown
from .exceptions import ParameterError
from .models import MODEL_NAMES, check_trainable
from .results import run_file_name
from .splits import FOLD_PROTOCOLS, NUM_FOLDS, PROTOCOLS, fold_label, make_split
from .training import PRESETS, apply_overrides, preset_config, train

logger = logging.getLogger(__name__)


def planned_runs(models, protocols, folds=None) -> list[tuple[str, str, int | None]]:
    """(model, protocol, fold) of every run, protocols outermost so that each
    protocol's table fills up model by model."""
    for model in models:
        check_trainable(model)
    for protocol in protocols:
        if protocol not in PROTOCOLS:
            raise ParameterError(f"Unknown protocol {protocol!r}; protocols: {', '.join(PROTOCOLS)}")
    folds = list(range(NUM_FOLDS)) if folds is None else list(folds)
    runs = []
    for protocol in protocols:
        for model in models:
            for fold in (folds if protocol in FOLD_PROTOCOLS else [None]):
                runs.append((model, protocol, fold))
    return runs


def variant_name(preset: str, overrides: dict | None = None) -> str:
    """The folder (and ``preset`` column) of a preset's runs under ``overrides``: ``"quick+learning_rate=0.0003"``."""
    return "+".join([preset, *(f"{key}={value}" for key, value in sorted((overrides or {}).items()))])


def expand_grid(vary: dict | None) -> list[dict]:
    """Every combination of ``{field: [values]}``, as override dicts (``[{}]`` for no grid)."""
    vary = vary or {}
    for key, values in vary.items():
        if not values:
            raise ParameterError(f"no values given for {key!r}")
    return [dict(zip(vary, combination)) for combination in itertools.product(*vary.values())]


def run_study(
    metadata: pd.DataFrame,
    preset: str = "quick",
    models=MODEL_NAMES,
    protocols=("paper", "actor"),
    folds=None,
    runs_dir="runs",
    cache_dir=None,
    seed=0,
    verbose: int = 2,
    *,
    overrides: dict | None = None,
    executor: str = "sequential",
    address: str | None = None,
    cpus_per_run: float = 1,
    gpus_per_run: float = 0,
) -> list[dict]:
    """Train every (model, protocol, fold, seed) not yet finished; return all finished runs' metrics.

    Parameters
    ----------
    metadata : pandas.DataFrame
        Every clip (:func:`ravdess_tf.load_metadata`).
    preset : str
        The recipe (:data:`ravdess_tf.training.PRESETS`).
    models, protocols, folds
        The grid (:func:`planned_runs`).
    runs_dir : path
        Run folders go to ``runs_dir/PRESET`` (``runs_dir/`` :func:`variant_name` with ``overrides``).
    cache_dir : path or None
        The feature cache.
    seed : int or sequence of int
        One run per seed of each cell of the grid.
    verbose : int
        Keras' verbosity.
    overrides : dict or None
        :class:`~ravdess_tf.training.TrainConfig` fields set on every run
        (:func:`~ravdess_tf.training.apply_overrides`); such runs are a variant with folders of their own.
    executor : {"sequential", "ray"}
        Train here one run at a time, or as Ray tasks (:mod:`ravdess_tf.executors`); the run folders
        and metrics are the same.
    address, cpus_per_run, gpus_per_run
        With ``executor="ray"``: see :func:`ravdess_tf.executors.run_with_ray`.
    """
    from .executors import EXECUTORS, check_resources

    if preset not in PRESETS:
        raise ParameterError(f"Unknown preset {preset!r}; presets: {', '.join(PRESETS)}")
    if executor not in EXECUTORS:
        raise ParameterError(f"Unknown executor {executor!r}; executors: {', '.join(EXECUTORS)}")
    check_resources(cpus_per_run, gpus_per_run)
    seeds = [seed] if isinstance(seed, (int, np.integer)) else list(seed)

    def config(model, run_seed):
        return apply_overrides(preset_config(preset, model, seed=run_seed), overrides)

    runs = [(model, protocol, fold, run_seed) for run_seed in seeds
            for model, protocol, fold in planned_runs(models, protocols, folds)]
    for model in dict.fromkeys(models):
        config(model, seeds[0])  # a bad override fails here, before anything is trained
    variant = variant_name(preset, overrides)
    runs_dir = Path(runs_dir) / variant
    finished, pending = {}, []
    for run in runs:
        metrics = runs_dir / run_file_name(*run) / "metrics.json"
        if metrics.is_file():
            finished[run] = json.loads(metrics.read_text())
        else:
            pending.append(run)
    if finished:
        logger.info("%d of %d runs finished earlier, skipped", len(finished), len(runs))
    if executor == "ray" and pending:
        from .executors import run_with_ray
        from .features import feature_table

        tables = {}  # one table per front-end, shared by the models that use it
        for model in dict.fromkeys(model for model, *_ in pending):
            model_config = config(model, seeds[0])
            if model_config.reads_audio:  # several windows or augmented copies: made by the worker
                tables[model] = None
                continue
            feature_config = model_config.feature_config()
            same = [table for table in tables.values() if table is not None and table.config == feature_config]
            tables[model] = same[0] if same else feature_table(metadata, feature_config, cache_dir=cache_dir,
                                                                progress=verbose > 0)
        finished.update(zip(pending, run_with_ray(
            metadata, preset, variant, pending, runs_dir, tables, address=address, cpus_per_run=cpus_per_run,
            gpus_per_run=gpus_per_run, overrides=overrides, verbose=verbose)))
    for index, run in enumerate(pending if executor == "sequential" else [], start=1):
        model, protocol, fold, run_seed = run
        run_dir = runs_dir / run_file_name(*run)
        label = f"[{index}/{len(pending)}] {run_dir.name}"
        resumed = " (resuming)" if (run_dir / "backup").exists() else ""
        logger.info("%s: training%s", label, resumed)
        start = time.perf_counter()
        split = make_split(metadata, protocol, seed=run_seed, fold=fold)
        result = train(model, split, config(model, run_seed), run_dir=run_dir, cache_dir=cache_dir, verbose=verbose,
                       description={"protocol": protocol, "fold": fold_label(protocol, fold), "preset": variant})
        logger.info("%s: test macro-F1 %.3f (%.0f s)", label, result["test"]["f1_macro"], time.perf_counter() - start)
        finished[run] = result
    return [finished[run] for run in runs]


def sweep_summary(runs_dir, preset: str, grid: list[dict]) -> pd.DataFrame:
    """The variants of a sweep side by side, the choice made on validation actors only.

    Parameters
    ----------
    runs_dir : path
        Where :func:`run_study` wrote each variant's run folders.
    preset : str
        The preset the variants change.
    grid : list of dict
        The overrides of each variant (:func:`expand_grid`).

    Returns
    -------
    pandas.DataFrame
        One row per (variant, model, protocol) with finished runs: ``variant``,
        ``model``, ``protocol``, ``runs`` (folds x seeds), mean and sd of
        validation and test macro-F1, and ``chosen``: the variant with the
        best mean validation macro-F1 for that model and protocol. Test scores
        are shown, never used to choose.
    """
    rows = []
    for overrides in grid:
        variant = variant_name(preset, overrides)
        for path in sorted((Path(runs_dir) / variant).glob("*/metrics.json")):
            result = json.loads(path.read_text())
            if "validation" in result and "test" in result:
                rows.append({"variant": variant, "model": result["model"], "protocol": result["protocol"],
                             "validation": result["validation"]["f1_macro"], "test": result["test"]["f1_macro"]})
    if not rows:
        raise ParameterError(f"No finished runs of the sweep under {runs_dir}; run it first")
    table = (pd.DataFrame(rows).groupby(["variant", "model", "protocol"], sort=False)
             .agg(runs=("test", "size"), val_f1_macro=("validation", "mean"), val_f1_macro_std=("validation", "std"),
                  test_f1_macro=("test", "mean"), test_f1_macro_std=("test", "std"))
             .reset_index().round(4))
    best = table.groupby(["model", "protocol"])["val_f1_macro"].transform("max")
    table["chosen"] = table["val_f1_macro"] == best
    return table


def write_sweep(runs_dir, preset: str, grid: list[dict], out, command: str = "") -> pd.DataFrame:
    """:func:`sweep_summary` written as ``out/summary.csv`` and ``out/README.md`` (with the command); returned."""
    summary = sweep_summary(runs_dir, preset, grid)
    write_csv(Path(out) / "summary.csv", summary)
    write_text(Path(out) / "README.md", f"# Sweep of the {preset} preset\n\n`{command}`\n\nChosen on mean validation "
                                        f"macro-F1 (validation actors only).\n\n{to_markdown(summary)}\n")
    return summary
