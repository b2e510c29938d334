"""The leakage experiment: one model under honest and leaky evaluations (see ravdess_tf.leakage).

    python scripts/leakage.py --models svm transformer --out results/leakage --runs-dir runs/leakage

Resumable: finished rows of OUT/leakage.csv are kept, unfinished networks resume from RUNS_DIR.
Writes OUT/leakage.csv (one row per model, condition and fold), OUT/summary.csv (mean and sd per model
and condition) and OUT/leakage.png (its figure).
"""

import argparse
import logging

from ravdess_tf import load_or_download
from ravdess_tf.atomic import write_csv
from ravdess_tf.leakage import CONDITIONS, leakage_summary, run_leakage
from ravdess_tf.plots import plot_leakage, save_figure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["svm"], help="svm and/or networks of the preset")
    parser.add_argument("--conditions", nargs="+", default=list(CONDITIONS), choices=CONDITIONS)
    parser.add_argument("--preset", default="full")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default=None, help="RAVDESS folder (default: $RAVDESS_ROOT or ./data)")
    parser.add_argument("--out", default="results/leakage", help="where the tables and the figure go")
    parser.add_argument("--runs-dir", default="runs/leakage", help="where the networks' run folders go")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    rows = run_leakage(load_or_download(args.data_dir), args.models, args.conditions, preset=args.preset,
                       seed=args.seed, out_dir=args.out, runs_dir=args.runs_dir)
    summary = leakage_summary(rows)
    write_csv(f"{args.out}/summary.csv", summary.round(4))
    save_figure(plot_leakage(summary), f"{args.out}/leakage.png")
    print(summary.to_string(index=False, float_format="{:.3f}".format))


if __name__ == "__main__":
    main()
