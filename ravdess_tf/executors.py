"""Who trains the runs of a study: this process one at a time, or Ray tasks side by side.

A study is a grid of independent runs (:func:`ravdess_tf.study.planned_runs`).
``"sequential"`` trains them here, one after the other. ``"ray"`` makes every
pending run a `Ray <https://docs.ray.io>`_ task with its resources declared
(CPUs, and a GPU fraction so that several small runs share one GPU), on this
machine (``ray.init()`` with no address) or on a cluster (``address`` or
``$RAY_ADDRESS``). Plain tasks rather than Ray Tune: each run already selects
its epoch on validation actors, checkpoints and resumes itself; Tune's trial
layout and schedulers would duplicate that and move the run folders.

What travels to a worker is the feature table, never the audio: the features
of every clip, made once where the data is
(:class:`~ravdess_tf.features.FeatureTable`, checked by its key and digest on
arrival), put once in Ray's object store and shared by every task.

A run's folder appears only finished: a task trains in a staging folder
(``RUNS/PRESET/.partial/RUN`` beside the run folders, or a temporary folder
on a worker of another node, whose finished folder is sent back) and moves it
into place when ``metrics.json`` is written. A worker that dies is replaced and
its task retried (:data:`MAX_RETRIES` times), resuming from the staging
folder; a run that fails in its own code is reported with its identity.
"""

from __future__ import annotations

import logging
import contextlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import time
from pathlib import Path

from .exceptions import ParameterError, RunsFailedError

logger = logging.getLogger(__name__)


EXECUTORS = ("sequential", "ray")
#: Times Ray starts a run again after its worker died (a killed process, a lost node).
MAX_RETRIES = 3
#: Folder, beside the run folders, where Ray tasks train until their run is finished.
STAGING = ".partial"


def check_resources(cpus_per_run: float, gpus_per_run: float) -> None:
    """Validate the resources each Ray task declares."""
    if not cpus_per_run > 0:
        raise ParameterError(f"cpus_per_run must be positive, got {cpus_per_run}")
    if gpus_per_run < 0 or (gpus_per_run > 1 and not float(gpus_per_run).is_integer()):
        raise ParameterError(f"gpus_per_run must be a fraction in [0, 1] or a whole number, got {gpus_per_run}")


def _pack(folder: Path) -> bytes:
    """A run folder as an uncompressed tar (trained weights barely compress)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        archive.add(folder, arcname=".")
    return buffer.getvalue()


def _unpack(data: bytes, folder: Path) -> None:
    folder.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        archive.extractall(folder, filter="data")


def _move_into_place(staging: Path, run_dir: Path) -> None:
    """``staging`` becomes ``run_dir`` in one rename; a run finished there meanwhile is kept."""
    if (run_dir / "metrics.json").is_file():
        shutil.rmtree(staging)
        return
    if run_dir.exists():  # an unfinished folder of an earlier sequential attempt: the staged run replaces it
        shutil.rmtree(run_dir)
    os.replace(staging, run_dir)
    with contextlib.suppress(OSError):  # the staging folder goes once no other run is staged in it
        staging.parent.rmdir()


def train_task(run, preset: str, variant: str, metadata, table, runs_dir: str, driver_node: str, overrides: dict,
               verbose: int) -> tuple[dict, bytes | None]:
    """The body of one Ray task: train ``run`` = (model, protocol, fold, seed) on ``table``'s features.

    ``preset`` gives the recipe, ``overrides`` change it, ``variant`` is the
    name the run is recorded under (:func:`ravdess_tf.study.variant_name`).

    On the driver's node the run is staged under ``runs_dir`` and moved into
    place here; on another node it is staged in a temporary folder and sent
    back packed (the second value), for the driver to move into place.
    """
    import ray

    from .results import run_file_name
    from .splits import fold_label, make_split
    from .training import apply_overrides, preset_config, train

    model, protocol, fold, seed = run
    name = run_file_name(model, protocol, fold, seed)
    local = ray.get_runtime_context().get_node_id() == driver_node
    staging_root = Path(runs_dir) if local else Path(tempfile.gettempdir()) / "ravdess-tf-runs" / variant
    staging = staging_root / STAGING / name
    if (staging / "metrics.json").is_file():  # finished by an attempt that died before moving it
        result = json.loads((staging / "metrics.json").read_text())
    else:  # a new run, or an attempt's unfinished one resumed
        split = make_split(metadata, protocol, seed=seed, fold=fold)
        result = train(model, split, apply_overrides(preset_config(preset, model, seed=seed), overrides),
                       run_dir=staging, features=table, verbose=verbose, executor="ray",
                       description={"protocol": protocol, "fold": fold_label(protocol, fold), "preset": variant})
    if local:
        _move_into_place(staging, Path(runs_dir) / name)
        return result, None
    packed = _pack(staging)
    shutil.rmtree(staging)
    return result, packed


#: Settings of Keras, JAX, XLA and TensorFlow that the workers take from the driver's environment.
PASSED_ON = ("KERAS_", "JAX_", "XLA_", "TF_")
#: What the workers get unless the driver's environment says otherwise: TensorFlow's C++ start-up lines
#: off the terminal, and GPU memory taken as needed rather than all at once, so that runs declaring a
#: fraction of a GPU can share it (JAX and TensorFlow each take most of the memory by default).
WORKER_DEFAULTS = {"TF_CPP_MIN_LOG_LEVEL": "2", "XLA_PYTHON_CLIENT_PREALLOCATE": "false",
                   "TF_FORCE_GPU_ALLOW_GROWTH": "true"}


def worker_environment() -> dict:
    """The environment variables every Ray worker gets: :data:`WORKER_DEFAULTS`, then the driver's
    own settings of Keras (its backend above all), JAX, XLA and TensorFlow (:data:`PASSED_ON`)."""
    passed = {name: value for name, value in os.environ.items() if name.startswith(PASSED_ON)}
    return {**WORKER_DEFAULTS, **passed}


@contextlib.contextmanager
def ray_session(address: str | None = None, verbose: int = 0):
    """Ray, started (or joined) for the block and shut down after it; nothing is done if Ray is already up.

    ``address=None`` joins ``$RAY_ADDRESS`` when it is set, else starts Ray on this machine.
    """
    try:
        import ray
    except ImportError as error:
        raise ParameterError('executor="ray" (--executor ray) needs Ray: pip install "ravdess-tf[cluster]"') from error
    if ray.is_initialized():
        yield ray
        return
    ray.init(address=address, include_dashboard=False, logging_level="WARNING", log_to_driver=verbose > 0,
             runtime_env={"env_vars": worker_environment()})
    try:
        yield ray
    finally:
        ray.shutdown()


def run_with_ray(metadata, preset: str, variant: str, runs: list, runs_dir: Path, tables: dict, *,
                 address: str | None = None,
                 cpus_per_run: float = 1, gpus_per_run: float = 0, overrides: dict | None = None,
                 verbose: int = 0) -> list[dict]:
    """Train ``runs`` as Ray tasks; return their metrics in the order given.

    Parameters
    ----------
    metadata : pandas.DataFrame
        Every clip (:func:`ravdess_tf.load_metadata`); it travels with each task, the audio does not.
    preset : str
        The preset whose recipe each run follows.
    variant : str
        The name its runs are recorded under: the preset's, or that of a variant with ``overrides``.
    runs : list of (model, protocol, fold, seed)
        The pending runs.
    runs_dir : path
        The preset's run folders (``RUNS/PRESET``).
    tables : dict
        ``{model: FeatureTable}``: the features each model's runs train on; ``None`` for a model whose
        recipe reads the audio (``TrainConfig.reads_audio``): its workers read the clips at their paths in
        ``metadata``, so on a cluster the data must be at the same path on every node.
    address : str or None
        A Ray cluster to join; ``None`` joins ``$RAY_ADDRESS`` if set, else starts Ray on this machine.
    cpus_per_run, gpus_per_run : float
        Resources each task declares: Ray runs as many side by side as they
        allow (``gpus_per_run=0.25``: four runs share a GPU).
    overrides : dict or None
        :class:`~ravdess_tf.training.TrainConfig` fields set on every run.
    verbose : int
        Keras' verbosity inside the tasks (their output reaches this terminal prefixed by Ray).

    Raises
    ------
    RunsFailedError
        After every other run has finished, naming each run that failed and why.
    """
    from .results import run_file_name

    check_resources(cpus_per_run, gpus_per_run)
    with ray_session(address, verbose) as ray:
        driver_node = ray.get_runtime_context().get_node_id()
        metadata_ref = ray.put(metadata)
        shared = {}  # models on one front-end share one table in the object store
        for table in tables.values():
            if id(table) not in shared:
                shared[id(table)] = None if table is None else ray.put(table)
        table_refs = {model: shared[id(table)] for model, table in tables.items()}
        task = ray.remote(num_cpus=cpus_per_run, num_gpus=gpus_per_run, max_retries=MAX_RETRIES,
                          retry_exceptions=False)(train_task)
        pending = {}
        for run in runs:
            reference = task.options(name=f"train {run_file_name(*run)}").remote(
                run, preset, variant, metadata_ref, table_refs[run[0]], str(runs_dir), driver_node, overrides or {},
                verbose)
            pending[reference] = run
        results, failures, start = {}, [], time.perf_counter()
        while pending:
            [done], _ = ray.wait(list(pending), num_returns=1)
            run = pending.pop(done)
            name = run_file_name(*run)
            try:
                result, packed = ray.get(done)
            except ray.exceptions.RayError as error:  # its own exception, or its worker lost MAX_RETRIES + 1 times
                cause = error.cause if isinstance(error, ray.exceptions.RayTaskError) and error.cause else error
                failures.append(f"{name}: {type(cause).__name__}: {str(cause).strip().splitlines()[-1]}")
                logger.warning("[ray] %s: failed (%s)", name, type(cause).__name__)
                continue
            if packed is not None:  # trained on another node: its folder came back packed
                staging = Path(runs_dir) / STAGING / name
                shutil.rmtree(staging, ignore_errors=True)
                _unpack(packed, staging)
                _move_into_place(staging, Path(runs_dir) / name)
            results[run] = result
            logger.info("[ray] %d/%d %s: test macro-F1 %.3f (%.0f s since the grid started)", len(results), len(runs),
                        name, result["test"]["f1_macro"], time.perf_counter() - start)
    if failures:
        raise RunsFailedError(failures)
    return [results[run] for run in runs]
