"""The ``ravdess-tf`` command line (also ``python -m ravdess_tf``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .exceptions import AudioError, DataNotFoundError, DownloadError, ParameterError

USER_ERRORS = (ParameterError, DataNotFoundError, AudioError, DownloadError, FileNotFoundError, FileExistsError)


def _data_dir_argument(parser):
    parser.add_argument(
        "--data-dir", type=Path, default=None,
        help="folder with the RAVDESS speech clips (.wav or .flac); default: $RAVDESS_ROOT, "
             "else ./data (downloaded there when missing)")


def resolve_metadata(data_dir: Path | None, download_missing: bool = True):
    """The metadata of the clips in ``data_dir``, downloading RAVDESS when it is absent."""
    from .data import default_data_dir, download, load_metadata

    root = data_dir or default_data_dir()
    try:
        return load_metadata(root)
    except DataNotFoundError:
        if not download_missing or data_dir is not None:
            raise
        print(f"No RAVDESS clips under {root}; downloading them there (208 MB).", file=sys.stderr)
        return load_metadata(download(root))


def cmd_download(args):
    from .data import download

    folder = download(args.data_dir)
    print(f"RAVDESS speech clips are in {folder}")


def cmd_features(args):
    from .features import FeatureConfig, extract_features

    metadata = resolve_metadata(args.data_dir)
    config = FeatureConfig(kind=args.kind)
    report = extract_features(metadata, config, cache_dir=args.cache_dir, return_report=True)
    print(f"{report.features.shape[0]} clips -> features of shape {report.features.shape[1:]}; "
          f"cached in {report.cache_path}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ravdess-tf",
        description="Speech emotion recognition on RAVDESS with Keras 3.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    download = commands.add_parser("download", help="download and verify the RAVDESS speech archive")
    _data_dir_argument(download)
    download.set_defaults(run=cmd_download)

    features = commands.add_parser("features", help="extract and cache features of every clip")
    _data_dir_argument(features)
    features.add_argument("--kind", choices=("logmel", "mfcc"), default="logmel",
                          help="log-mel spectrogram (default) or MFCCs with deltas")
    features.add_argument("--cache-dir", type=Path, default=None,
                          help="where cached features go; default: $RAVDESS_TF_CACHE, else ./data/cache")
    features.set_defaults(run=cmd_features)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except USER_ERRORS as error:
        print(f"ravdess-tf {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    return 0
