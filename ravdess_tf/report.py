"""The study's tables and figures, from its finished run folders: ``metrics.csv`` (one row per run, keyed
by its identity), the comparison with the study's Table 2, breakdowns, training curves and the README."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from .atomic import write_csv, write_text
from .data import EMOTIONS
from .evaluation import breakdown, per_class_report, to_markdown
from .exceptions import ParameterError
from .features import FeatureConfig
from .models import TRAINABLE_MODELS
from .results import CONFIGURATION, METRICS_COLUMNS, RUN_IDENTITY, file_slug, load_results, run_file_name
from .splits import NUM_FOLDS, PROTOCOLS
from .training import PRESETS


def _identity(result: dict) -> dict:
    return {"preset": result["preset"], "model": result["model"], "features": result["features"],
            "protocol": result["protocol"], "fold": str(result["fold"]), "seed": int(result["seed"])}


def collect_runs(runs_dir, preset: str) -> list[dict]:
    """The metrics of every finished, tested run of a preset (final models on all actors have no test).

    Each gets ``preset``, ``run_dir`` and ``features`` (the front-end's tag,
    read from the run's config for runs made before metrics recorded it).
    """
    folder = Path(runs_dir) / preset
    results = []
    for path in sorted(folder.glob("*/metrics.json")):
        result = json.loads(path.read_text())
        if "test" not in result:
            continue
        if "features" not in result:
            config = json.loads((path.parent / "config.json").read_text())
            result["features"] = FeatureConfig.from_dict(config["feature_config"]).tag
        results.append({**result, "preset": preset, "run_dir": path.parent})
    return results


def export_runs(results: list[dict], results_dir) -> pd.DataFrame:
    """Write ``metrics.csv`` and every run's test predictions into ``results_dir``; return the metrics.

    A run's predictions go to ``predictions/PRESET/FEATURES/RUN.csv`` and its row of
    ``metrics.csv`` names that file, so readers join the two by identity,
    never by parsing file names. Rows already in ``metrics.csv`` for runs not
    given here are kept (runs trained elsewhere, or with an earlier
    front-end); a run given here replaces its own row.
    """
    results_dir = Path(results_dir)
    order = {name: i for i, name in enumerate(TRAINABLE_MODELS)}
    protocol_order = {name: i for i, name in enumerate(PROTOCOLS)}
    rows = []
    for result in results:
        identity = _identity(result)
        relative = Path("predictions") / identity["preset"] / file_slug(identity["features"]) / (
            run_file_name(identity["model"], identity["protocol"], identity["fold"], identity["seed"]) + ".csv")
        write_csv(results_dir / relative, pd.read_csv(result["run_dir"] / "predictions_test.csv"))
        rows.append({**identity, **{k: round(v, 4) for k, v in result["test"].items()},
                     **{k: result[k] for k in ("backend", "device", "epochs", "best_epoch", "train_seconds",
                                              "parameters")},
                     # Runs made before the executor was recorded all ran through the sequential path.
                     "executor": result.get("executor", "sequential"),
                     "predictions": relative.as_posix()})
    metrics = pd.DataFrame(rows, columns=METRICS_COLUMNS)
    previous = results_dir / "metrics.csv"
    if previous.is_file():  # rows of runs not at hand now (another machine's, an older front-end's) stay
        kept = pd.read_csv(previous, dtype={"fold": str})
        if "executor" not in kept:  # written before the executor was recorded: the sequential path made them
            kept["executor"] = "sequential"
        if set(METRICS_COLUMNS) <= set(kept.columns):
            kept = kept[METRICS_COLUMNS]
            new_runs = set(map(tuple, metrics[list(RUN_IDENTITY)].astype(str).to_numpy()))
            kept = kept[[tuple(row) not in new_runs for row in kept[list(RUN_IDENTITY)].astype(str).to_numpy()]]
            metrics = pd.concat([kept, metrics], ignore_index=True)
    metrics = metrics.sort_values(
        ["protocol", "features", "model", "fold", "seed"], ignore_index=True,
        key=lambda c: c.map(protocol_order) if c.name == "protocol" else c.map(order) if c.name == "model"
        else c.astype(str))
    write_csv(results_dir / "metrics.csv", metrics)
    return metrics


def write_results(runs_dir, preset: str, results_dir, figures_dir, command: str = "",
                  extra_presets=()) -> dict[str, Path]:
    """Tables and figures from the finished runs of a preset. Returns what was written.

    ``extra_presets`` adds the runs of other presets (e.g. ``whisper``) to the
    same tables, told apart by their ``preset`` and ``features`` columns.
    """
    results = [r for name in (preset, *extra_presets) for r in collect_runs(runs_dir, name)]
    if not results:
        raise ParameterError(f"No finished runs under {Path(runs_dir) / preset}; run the study first")
    export_runs(results, results_dir)
    histories = {tuple(_identity(r).values()): r["run_dir"] / "history.csv" for r in results}
    return write_report(results_dir, figures_dir, preset, command=command, histories=histories)


class StudyReport(NamedTuple):
    """Where :func:`report_study` wrote: the tables' and figures' folders, and what it wrote."""

    results_dir: Path
    figures_dir: Path
    written: dict

    @property
    def figure_count(self) -> int:
        return sum(1 for path in self.written.values() if Path(path).suffix == ".png")


def report_study(runs_dir, preset: str, results_dir=None, figures_dir=None, command: str = "") -> StudyReport:
    """Write the tables and figures of a preset's runs, with the runs of the presets reported beside it.

    A preset with ``report_in`` (``whisper``) is reported in that preset's
    tables (``full``) when its runs exist, together with every other preset
    reported there; the folders default to ``results/PRESET`` and
    ``figures/PRESET`` of the preset reported.
    """
    if preset not in PRESETS:
        raise ParameterError(f"Unknown preset {preset!r}; presets: {', '.join(PRESETS)}")
    runs_dir = Path(runs_dir)
    main_preset = PRESETS[preset].get("report_in", preset)
    if not (runs_dir / main_preset).is_dir():
        main_preset = preset
    extra = [name for name, recipe in PRESETS.items()
             if recipe.get("report_in") == main_preset and name != main_preset and (runs_dir / name).is_dir()]
    results_dir = Path(results_dir) if results_dir is not None else Path("results") / main_preset
    figures_dir = Path(figures_dir) if figures_dir is not None else Path("figures") / main_preset
    written = write_results(runs_dir, main_preset, results_dir, figures_dir, command=command, extra_presets=extra)
    return StudyReport(results_dir, figures_dir, written)


def write_report(results_dir, figures_dir, preset: str, command: str = "", histories=None) -> dict[str, Path]:
    """Tables, figures and README of a results folder, from its ``metrics.csv`` and predictions.

    Parameters
    ----------
    results_dir, figures_dir : path
        Where :func:`export_runs` wrote, and where the figures go.
    preset : str
        The preset the README describes first; rows of other presets are
        described after it.
    command : str
        The command that made the results, quoted in the README.
    histories : dict or None
        ``history.csv`` of runs, keyed by the tuple of their identity values;
        the training curves of the test split or fold 0 are drawn from them
        (without, the tables and other figures are still written).

    Returns
    -------
    dict
        What was written, name -> path.
    """
    from .plots import plot_comparison, plot_confusion, plot_history, plot_per_class_f1, save_figure

    results = load_results(results_dir)
    results_dir, figures_dir = Path(results_dir), Path(figures_dir)
    written = {"metrics": results_dir / "metrics.csv", "comparison": results_dir / "comparison.csv"}
    comparison = results.comparison()
    write_csv(written["comparison"], comparison)

    predictions = results.predictions()
    breakdowns = []
    for identity, table in predictions.groupby(list(RUN_IDENTITY), sort=False):
        for by in ("intensity", "gender"):
            part = breakdown(table, by).rename(columns={by: "group"})
            part.insert(0, "by", by)
            for column, value in reversed(list(zip(RUN_IDENTITY, identity))):
                part.insert(0, column, value)
            breakdowns.append(part)
    written["breakdown"] = results_dir / "breakdown.csv"
    write_csv(written["breakdown"], pd.concat(breakdowns, ignore_index=True))

    per_class = []
    for row in comparison.itertuples(index=False):
        pooled = predictions[(predictions["label"] == row.label) & (predictions["protocol"] == row.protocol)]
        report = per_class_report(pooled["emotion_id"], pooled["predicted_id"]).reset_index(names="emotion")
        per_class.append(report.assign(**{c: getattr(row, c) for c in (*CONFIGURATION, "label")}))
        slug = file_slug(row.preset, row.model, row.features, row.protocol)
        for normalize in (False, True):
            suffix = "normalised" if normalize else "counts"
            figure = plot_confusion(pooled["emotion_id"], pooled["predicted_id"], normalize=normalize,
                                    title=f"{row.label}, {row.protocol} protocol, test ({suffix})")
            written[f"confusion {slug} {suffix}"] = save_figure(figure, figures_dir / f"confusion_{slug}_{suffix}.png")
    per_class = pd.concat(per_class, ignore_index=True)
    per_class = per_class[[*CONFIGURATION, "label", "emotion", "precision", "recall", "f1-score", "support"]]
    written["per_class_f1"] = results_dir / "per_class_f1.csv"
    write_csv(written["per_class_f1"], per_class)
    for protocol, part in per_class.groupby("protocol", sort=False):
        table = part.pivot(index="emotion", columns="label", values="f1-score").reindex(
            index=EMOTIONS, columns=list(dict.fromkeys(part["label"])))
        figure = plot_per_class_f1(table, title=f"test F1 per emotion, {protocol} protocol")
        written[f"per_class_f1 {protocol}"] = save_figure(figure, figures_dir / f"per_class_f1_{protocol}.png")

    for row in results.metrics.itertuples(index=False):
        history_path = (histories or {}).get(tuple(getattr(row, c) for c in RUN_IDENTITY))
        if row.fold not in ("test", "0") or history_path is None:
            continue
        history = pd.read_csv(history_path)
        if "loss" not in history:  # a linear head fitted exactly: no epochs, one row per C
            continue
        slug = file_slug(row.preset, row.model, row.features, row.protocol)
        figure = plot_history(history, title=f"{row.label}, {row.protocol} protocol")
        written[f"history {slug}"] = save_figure(figure, figures_dir / f"history_{slug}.png")
    written["comparison_figure"] = save_figure(plot_comparison(comparison), figures_dir / "comparison.png")
    written["readme"] = results_dir / "README.md"
    _write_readme(written["readme"], preset, results.metrics, comparison, figures_dir, command)
    return written


PROTOCOL_NOTES = """\
- `paper`: the study's random 960/240/240 split, stratified by emotion. All 24 actors are in
  training, validation and test, so a model is tested on voices it was trained on (two clips of
  actor 7 are even byte-identical). This is what the study's Table 2 measures.
- `actor`: actors 1-16 train, 17-20 validate, 21-24 test. The test voices are new: this is how a
  model would do on a speaker it has never heard.
- `actor_cv`: six folds of four consecutive actors; each fold is tested once, validation is the
  next fold, every choice is made on validation actors only. Mean and standard deviation over folds.
- `emobox`: the six folds of the EmoBox benchmark (four test actors each, not consecutive), so that
  our numbers stand beside its published ones; validation is the next fold's test actors, taken
  out of EmoBox's 20 training actors (a recipe that refits on training + validation trains on
  EmoBox's 20).

Numbers from `paper` and from the actor-independent protocols are not comparable: a random split
rewards memorising speakers (a classical SVM on log-mel statistics scores about 74 % on a random
split and 46 % over actor folds on this data). The study's numbers come from a random split: set
them beside the `paper` rows, and read the actor-independent rows for new speakers.
"""


def describe_machines(metrics: pd.DataFrame) -> str:
    """Each machine the runs trained on, with its Keras backend, run count and hours.

    Runs of one study may come from several machines (a CPU for some, a GPU
    for others); naming only one would misstate where the rest were measured.
    """
    def trained_by(backend: str) -> str:  # the SVM baseline's runs are scikit-learn's, not a Keras backend's
        return "scikit-learn" if backend == "scikit-learn" else f"Keras backend `{backend}`"

    return "; ".join(
        f"{device} with {trained_by(backend)} ({len(runs)} runs, {runs['train_seconds'].sum() / 3600:.2f} h)"
        for (device, backend), runs in metrics.groupby(["device", "backend"], sort=False))


def training_time_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """Training seconds summed per configuration and machine.

    Columns: those of ``preset``, ``model`` and ``features`` that ``metrics``
    has (a model name alone can stand for two front-ends), ``device``,
    ``backend``, ``runs``, ``train_seconds``.
    """
    keys = [c for c in ("preset", "model", "features") if c in metrics] + ["device", "backend"]
    table = metrics.groupby(keys, sort=False)["train_seconds"].agg(runs="size", train_seconds="sum").reset_index()
    table["train_seconds"] = table["train_seconds"].round().astype(int)
    return table


def _write_readme(path: Path, preset: str, metrics, comparison, figures_dir: Path, command: str) -> None:
    extra_presets = [name for name in dict.fromkeys(metrics["preset"]) if name != preset]
    table = comparison[["preset", "model", "features", "protocol", "runs", "folds", "accuracy", "precision_macro", "recall_macro", "f1_macro",
                        "f1_macro_std", "paper_accuracy", "paper_precision", "paper_recall", "paper_f1"]]
    hours = metrics["train_seconds"].sum() / 3600
    figures = Path(os.path.relpath(figures_dir.resolve(), path.parent.resolve())).as_posix()
    lines = [
        f"# Results: preset `{preset}`",
        "",
        PRESETS[preset]["description"],
        "",
        *[f"Rows of preset `{name}` (their `features` column says so): {PRESETS[name]['description']}\n"
          for name in extra_presets],
        f"Made by: `{command or 'ravdess-tf study --preset ' + preset}`",
        f"Machines: {describe_machines(metrics)}. Tables written with Python {platform.python_version()}. "
        f"Training time of the runs here: {hours:.2f} hours in all.",
        "",
        "Test metrics (fractions; macro averages over the 8 emotions), beside the study's Table 2 "
        "(`paper_*`, its own random split; it does not say how it averaged). A row is one configuration "
        "(preset, model, front-end, protocol); `runs` counts its runs (folds and seeds), averaged here, and `folds` "
        f"the distinct folds among them (a cross-validation with `folds` below {NUM_FOLDS} is still under way). "
        "A `features` tag "
        "ending in `+level` (or `+levelN`, N dBFS) is a level-normalised front-end (feature version 2: every clip's "
        "active speech brought to -25 dBFS, or N); without it, clips at their recorded level:",
        "",
        to_markdown(table),
        "",
        "Per run: `metrics.csv` (its identity, test metrics, machine, and the file of its test predictions). "
        "Per emotion: `per_class_f1.csv`. By intensity and gender: `breakdown.csv`. Test predictions of every "
        "run (clip, true and predicted emotion, probabilities): `predictions/PRESET/FEATURES/`. Read them all with "
        "`ravdess_tf.results.load_results`.",
        "",
        "Training time per model and machine (all its runs; seconds on one machine are not comparable "
        "with seconds on another):",
        "",
        to_markdown(training_time_table(metrics)),
        "",
        "## Protocols",
        "",
        PROTOCOL_NOTES,
        "## Figures",
        "",
        f"![comparison]({figures}/comparison.png)",
        "",
        f"Confusion matrices, per-class F1 and training curves are in `{figures}/`.",
        "",
    ]
    write_text(path, "\n".join(lines))
