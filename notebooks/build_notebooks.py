"""Write the numbered notebooks from this one file.

    python notebooks/build_notebooks.py

The seven architecture notebooks share their structure, so they are made
from one template here rather than kept in step by hand; edit this file,
not the ``.ipynb`` files, and run it again. The notebooks are written
without outputs (CI executes them; Colab and Jupyter users run them).
"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
#: Where the project lives on GitHub: the Colab badges and the Colab install cell use it.
REPOSITORY = "ravdess-tf/ravdess-tf"


def colab_badge(filename: str) -> str:
    return (f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"(https://colab.research.google.com/github/{REPOSITORY}/blob/main/notebooks/{filename})")


COLAB_SETUP = f'''\
# In Colab only: install the project (TensorFlow is already there). The data is downloaded
# by load_or_download() below when DATA_DIR is None and $RAVDESS_ROOT is not set.
import sys

if "google.colab" in sys.modules:
    !pip install -q "ravdess-tf @ git+https://github.com/{REPOSITORY}"'''


def parameters(extra: str = "") -> nbformat.NotebookNode:
    source = '''\
# Parameters (papermill style: CI runs PRESET="quick", EPOCHS=1; a GPU machine can run "full")
PRESET = "quick"     # "quick": small variants, minutes on a CPU; "full": the study's networks
DATA_DIR = None      # None: $RAVDESS_ROOT if set, else ./data (downloaded when missing)
SEED = 0''' + extra
    cell = new_code_cell(source)
    cell.metadata["tags"] = ["parameters"]
    return cell


def notebook(filename: str, cells: list) -> None:
    book = new_notebook(cells=cells)
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    book.metadata["language_info"] = {"name": "python"}
    nbformat.write(book, HERE / filename)


# --------------------------------------------------------------------------
# 01: exploratory data analysis
# --------------------------------------------------------------------------

def eda():
    notebook("01_eda.ipynb", [
        new_markdown_cell(f"""# 01 · RAVDESS: what is in the data

{colab_badge("01_eda.ipynb")}

The speech part of RAVDESS: 1440 clips, 24 professional actors (12 female, 12 male), two
statements, eight emotions, two intensities. Every fact below is read from the files; nothing is
typed in by hand."""),
        new_code_cell(COLAB_SETUP),
        parameters(),
        new_code_cell('''\
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import soundfile
from IPython.display import Audio, display

import ravdess_tf as rt
from ravdess_tf.audio import load_audio
from ravdess_tf.features import FeatureConfig
from ravdess_tf.spectrogram import SpectrogramExtractor

metadata = rt.load_or_download(DATA_DIR)
metadata.head()'''),
        new_markdown_cell("## How many clips of each kind\n\nThe file name encodes everything: "
                          "`03-01-05-02-01-02-12` is audio-only (03), speech (01), angry (05), strong (02), "
                          "statement 1, repetition 2, actor 12 (even: female)."),
        new_code_cell('''\
fig, axes = plt.subplots(2, 3, figsize=(15, 7))
for ax, column in zip(axes.flat, ["emotion", "intensity", "gender", "statement", "repetition", "actor"]):
    sns.countplot(data=metadata, x=column, ax=ax, order=sorted(metadata[column].unique()))
    ax.tick_params(axis="x", rotation=45)
fig.tight_layout()
pd.crosstab(metadata["emotion"], metadata["intensity"], margins=True)'''),
        new_markdown_cell('''## Class imbalance

Neutral has no strong intensity, so it has 96 clips against 192 for every other emotion. A model
that never says "neutral" loses little accuracy (6.7 % of clips) but a whole class: macro-averaged
F1 counts every emotion equally and exposes that, which is why this project selects and reports on
macro-F1. Always guessing one emotion scores 13.3 % accuracy; chance macro-F1 is about 0.125.'''),
        new_code_cell('''\
counts = metadata["emotion"].value_counts()
print(counts.to_string())
print(f"majority-class accuracy: {counts.max() / counts.sum():.3f}")'''),
        new_markdown_cell("## Clip durations\n\nFeatures use a centred 3-second window (padded when "
                          "shorter), so it matters how long the clips are."),
        new_code_cell('''\
info = [soundfile.info(path) for path in metadata["path"]]
metadata["seconds"] = [i.duration for i in info]
metadata["channels"] = [i.channels for i in info]
print(f"{metadata.seconds.min():.2f}-{metadata.seconds.max():.2f} s, mean {metadata.seconds.mean():.2f} s, "
      f"{metadata.seconds.sum() / 3600:.2f} hours; stereo clips: {(metadata.channels == 2).sum()}")
ax = sns.histplot(data=metadata, x="seconds", hue="emotion", multiple="stack", bins=30)
ax.axvline(FeatureConfig().duration, color="black", linestyle="--")'''),
        new_markdown_cell("## One clip per emotion: waveform, log-mel spectrogram, sound\n\n"
                          "All from actor 1, statement 1 (\"Kids are talking by the door\"), normal intensity."),
        new_code_cell('''\
config = FeatureConfig()
extractor = SpectrogramExtractor(config)
examples = metadata[(metadata.actor == 1) & (metadata.statement == 1) & (metadata.intensity == "normal")
                    & (metadata.repetition == 1)]
fig, axes = plt.subplots(len(examples), 2, figsize=(14, 2.2 * len(examples)))
for (waveform_ax, mel_ax), row in zip(axes, examples.itertuples()):
    audio = load_audio(row.path, config.sample_rate)
    waveform_ax.plot(np.arange(len(audio)) / config.sample_rate, audio, linewidth=0.5)
    waveform_ax.set_ylabel(row.emotion)
    mel_ax.imshow(extractor(audio), origin="lower", aspect="auto", cmap="magma")
    mel_ax.set_yticks([])
axes[-1, 0].set_xlabel("seconds")
axes[-1, 1].set_xlabel("frames (16 ms)")
fig.tight_layout()'''),
        new_code_cell('''\
for row in examples.itertuples():
    print(row.emotion)
    display(Audio(load_audio(row.path, config.sample_rate), rate=config.sample_rate))'''),
    ])


# --------------------------------------------------------------------------
# 02: features, augmentation, splits
# --------------------------------------------------------------------------

def features_and_pipeline():
    notebook("02_features_and_pipeline.ipynb", [
        new_markdown_cell(f"""# 02 · Features, augmentation and honest splits

{colab_badge("02_features_and_pipeline.ipynb")}

How a clip becomes the input of a network, what training-time augmentation does to it, and why the
way the clips are split decides what the final number means."""),
        new_code_cell(COLAB_SETUP),
        parameters(),
        new_code_cell('''\
import time
from dataclasses import asdict

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import ravdess_tf as rt
from ravdess_tf.pipeline import AugmentConfig, augment_batch, fit_normalizer

metadata = rt.load_or_download(DATA_DIR)
config = rt.FeatureConfig()
pd.Series(asdict(config))'''),
        new_markdown_cell("## Cached extraction\n\nThe first call decodes, resamples and transforms "
                          "every clip on all cores; the second reads the cache."),
        new_code_cell('''\
for attempt in ("first", "second"):
    start = time.perf_counter()
    features = rt.extract_features(metadata, config)
    print(f"{attempt} call: {time.perf_counter() - start:.2f} s, shape {features.shape}")'''),
        new_markdown_cell("## Augmentation\n\nIn training only, each batch is changed on the fly: a "
                          "random band of mel bands and of frames is masked (SpecAugment), the clip is "
                          "shifted in time and a little noise is added. The network never sees the same "
                          "picture twice."),
        new_code_cell('''\
normalizer = fit_normalizer(features)
clip = normalizer(features[:1])
augmented = augment_batch(clip, np.random.default_rng(SEED), AugmentConfig())
fig, axes = plt.subplots(1, 2, figsize=(14, 3.5))
for ax, image, title in zip(axes, (clip[0], augmented[0]), ("standardised", "augmented")):
    ax.imshow(image, origin="lower", aspect="auto", cmap="magma")
    ax.set_title(title)'''),
        new_markdown_cell('''## Splits

The study splits the 1440 clips at random into 960/240/240. Every actor then appears in training
*and* test, so a model can score by recognising the voice. The actor-independent split keeps test
actors out of training; cross-validation rotates four test actors at a time.'''),
        new_code_cell('''\
rows = []
for protocol, fold in [("paper", None), ("actor", None)] + [("actor_cv", k) for k in range(6)]:
    split = rt.make_split(metadata, protocol, seed=SEED, fold=fold)
    actors = {name: set(part.actor) for name, part in split.items()}
    shared = (actors["train"] & actors["test"]) | (actors["validation"] & actors["test"])
    rows.append({"protocol": protocol, "fold": fold, **{name: len(part) for name, part in split.items()},
                 "test actors": sorted(actors["test"]), "test actors also in training": len(shared)})
splits_table = pd.DataFrame(rows)
splits_table'''),
        new_code_cell('''\
independent = splits_table[splits_table.protocol != "paper"]
assert (independent["test actors also in training"] == 0).all(), "an actor crosses an actor-independent split"
print("No actor crosses an actor-independent split; the paper split shares",
      int(splits_table.loc[0, "test actors also in training"]), "of 24 actors between training and test.")'''),
    ])


# --------------------------------------------------------------------------
# 03-09: one notebook per architecture
# --------------------------------------------------------------------------

ARCHITECTURES = [
    ("03_alexnet.ipynb", "alexnet", "AlexNet", r"""AlexNet (Krizhevsky et al., 2012) stacks five
convolutional layers and three fully connected ones. Its core operation is the convolution (the
study's equation 1):

$$f(x) = W * x + b$$

Here it is written by hand in `ravdess_tf/models/alexnet.py`, adapted to spectrograms: a stride of
2 instead of 4 in the first layer, batch normalisation instead of local response normalisation,
and global average pooling before the fully connected layers."""),
    ("04_resnet.ipynb", "resnet50", "ResNet50", r"""ResNet (He et al., 2016) learns residuals: each
block adds its input to what it computes (equation 2),

$$f(x) + x$$

so a block that has nothing to add can pass its input through, and 50 layers still train. The
network comes from `keras.applications.ResNet50` (random weights by default) with a new head."""),
    ("05_inception.ipynb", "inception_v3", "InceptionV3", r"""InceptionV3 (Szegedy et al., 2016) runs
convolutions of several sizes side by side and concatenates them (equation 3):

$$\mathrm{Inception}(x) = [f_1(x), f_2(x), f_3(x), f_4(x)]$$

so every layer sees the spectrogram at several scales at once. It needs inputs of at least 75 x 75."""),
    ("06_vgg16.ipynb", "vgg16", "VGG16", r"""VGG16 (Simonyan & Zisserman, 2015) uses only 3x3
convolutions with ReLU (equation 4),

$$f(x) = \mathrm{ReLU}(W * x + b)$$

thirteen of them in five blocks separated by max-pooling. It has no batch normalisation."""),
    ("07_vgg19.ipynb", "vgg19", "VGG19", r"""VGG19 is VGG16 with sixteen convolutions instead of
thirteen (one more in each of the last three blocks), the same equation 4:

$$f(x) = \mathrm{ReLU}(W * x + b)$$"""),
    ("08_lstm.ipynb", "lstm", "LSTM", r"""A Long Short-Term Memory network reads the spectrogram frame by
frame. Its cell state carries information across time, gated by what to forget and what to add
(equation 5):

$$c_t = f_t * c_{t-1} + i_t * \tilde{c}_t$$

Here two bidirectional LSTM layers read the frames, and their outputs are pooled over time."""),
    ("09_transformer.ipynb", "transformer", "Transformer", r"""A Transformer encoder lets every
frame attend to every other through self-attention (equation 6):

$$\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\left(\frac{QK^T}{\sqrt{d_k}}\right)V$$

Frames are embedded (two at a time), given sinusoidal positions, passed through pre-norm encoder
blocks and mean-pooled."""),
]


def architecture(filename: str, model: str, title: str, explanation: str):
    number = filename[:2]
    notebook(filename, [
        new_markdown_cell(f"""# {number} · {title}

{colab_badge(filename)}

{explanation}

This notebook builds the model from the library, trains it on one split, and reports the study's
four metrics. With `PRESET = "quick"` it is a small variant that trains in minutes on a CPU; with
`"full"` it is the full-size network (use a GPU)."""),
        new_code_cell(COLAB_SETUP),
        parameters('''
PROTOCOL = "actor"   # "paper": the study's random split; "actor": test actors never heard in training
EPOCHS = None        # None: the preset's number of epochs
RUNS_DIR = "runs/notebooks"'''),
        new_code_cell(f'''\
import pandas as pd

import ravdess_tf as rt
from ravdess_tf import plots
from ravdess_tf.evaluation import PAPER_TABLE2
from ravdess_tf.training import preset_config, train

MODEL = "{model}"
metadata = rt.load_or_download(DATA_DIR)
split = rt.make_split(metadata, PROTOCOL, seed=SEED)
config = preset_config(PRESET, MODEL, seed=SEED, **({{"epochs": EPOCHS}} if EPOCHS else {{}}))
input_shape = (*config.feature_config().shape, 1)
print({{name: len(part) for name, part in split.items()}}, "input shape", input_shape)'''),
        new_code_cell('''\
model = rt.build_model(MODEL, input_shape, **config.model_options)
model.summary(line_length=100, show_trainable=False)'''),
        new_markdown_cell("## Train\n\nAdamW with a cosine learning-rate decay, class weights, "
                          "augmentation; the epoch with the best validation macro-F1 is kept and the test "
                          "split is predicted once, with it. Running this cell again retrains from scratch."),
        new_code_cell('''\
run_dir = f"{RUNS_DIR}/{PRESET}/{MODEL}-{PROTOCOL}"
result = train(MODEL, split, config, run_dir=run_dir, overwrite=True, verbose=2)'''),
        new_code_cell('''\
history = pd.read_csv(f"{run_dir}/history.csv")
plots.plot_history(history, title=f"{MODEL}, {PROTOCOL} split");'''),
        new_code_cell('''\
predictions = pd.read_csv(f"{run_dir}/predictions_test.csv")
plots.plot_confusion(predictions.emotion_id, predictions.predicted_id, normalize=True,
                     title=f"{MODEL}, {PROTOCOL} split, test");'''),
        new_markdown_cell("## The four metrics, beside the study's\n\nThe study's numbers come from "
                          "its random split with its full-size network; compare like with like."),
        new_code_cell('''\
ours = {k: result["test"][k] for k in ("accuracy", "precision_macro", "recall_macro", "f1_macro")}
paper = PAPER_TABLE2.set_index("model").loc[MODEL]
pd.DataFrame({f"this run ({PRESET}, {PROTOCOL})": list(ours.values()), "study (Table 2)": list(paper)},
             index=["accuracy", "precision", "recall", "F1"]).round(3)'''),
    ])


# --------------------------------------------------------------------------
# 10: comparison
# --------------------------------------------------------------------------

def comparison():
    notebook("10_comparison.ipynb", [
        new_markdown_cell(f"""# 10 · Every model beside the study's Table 2

{colab_badge("10_comparison.ipynb")}

This notebook reads the committed results of the full study (`results/full/`) instead of
retraining seven networks. Where they are missing it runs a quick study of two small models, and
says so."""),
        new_code_cell(COLAB_SETUP),
        parameters('''
RESULTS_DIR = None   # None: results/full of this repository if it is there
RUNS_DIR = "runs/notebooks"'''),
        new_code_cell('''\
from pathlib import Path

import matplotlib.pyplot as plt

import ravdess_tf as rt
from ravdess_tf import plots
from ravdess_tf.results import load_results
from ravdess_tf.report import write_results
from ravdess_tf.study import run_study

candidates = [Path(RESULTS_DIR)] if RESULTS_DIR else [Path("results/full"), Path("../results/full")]
results_dir = next((p for p in candidates if (p / "metrics.csv").is_file()), None)
if results_dir is not None:
    print(f"Reading the committed results in {results_dir.resolve()}")
else:
    print("No results/full here: running a quick study of lstm and transformer instead.")
    metadata = rt.load_or_download(DATA_DIR)
    run_study(metadata, PRESET, models=["lstm", "transformer"], protocols=["paper", "actor"],
              runs_dir=RUNS_DIR, seed=SEED, verbose=0)
    results_dir = Path(RUNS_DIR) / "results"
    write_results(RUNS_DIR, PRESET, results_dir, results_dir / "figures")
results = load_results(results_dir)
comparison = results.comparison()
comparison.drop(columns=["label"]).round(3)'''),
        new_markdown_cell('''A run is identified by its preset, model, front-end (`features`), protocol, fold and seed;
one bar or row is one configuration (everything but fold and seed), so the log-mel `transformer` and
the `transformer` head on Whisper features are never averaged together.'''),
        new_code_cell('''plots.plot_comparison(comparison);'''),
        new_markdown_cell("## Confusion matrices (test, row-normalised, folds pooled)"),
        new_code_cell('''\
predictions = results.pooled_predictions()  # {(label, protocol): every clip of its runs}
columns = 4
rows = -(-len(predictions) // columns)
fig, axes = plt.subplots(rows, columns, figsize=(5 * columns, 4.5 * rows), squeeze=False)
for ax, ((label, protocol), table) in zip(axes.flat, predictions.items()):
    plots.plot_confusion(table.emotion_id, table.predicted_id, normalize=True, title=f"{label} ({protocol})", ax=ax)
for ax in axes.flat[len(predictions):]:
    ax.axis("off")
fig.tight_layout()'''),
        new_markdown_cell("## Per emotion, intensity and gender"),
        new_code_cell('''\
import pandas as pd

per_class = pd.read_csv(results_dir / "per_class_f1.csv")
for protocol, part in per_class.groupby("protocol", sort=False):
    table = part.pivot(index="emotion", columns="label", values="f1-score").reindex(rt.EMOTIONS)
    plots.plot_per_class_f1(table, title=f"test F1 per emotion, {protocol} protocol")'''),
        new_code_cell('''\
breakdown = pd.read_csv(results_dir / "breakdown.csv")
breakdown.pivot_table(index=["preset", "model", "features", "protocol"], columns=["by", "group"],
                      values="f1_macro").round(3)'''),
        new_markdown_cell('''## Are the differences significant?

For each protocol, every pair of configurations is compared on the same test clips with an exact
McNemar test (clips one gets right and the other wrong), and each configuration's macro-F1 gets a
95 % bootstrap interval. Clips of one actor are not independent, so both are optimistic on the
actor-independent protocols; with cross-validation, the spread over folds is the better guide.'''),
        new_code_cell('''\
intervals = results.bootstrap_intervals("f1_macro", n_resamples=300, seed=SEED)
intervals.round(3)'''),
        new_code_cell('''\
tests = results.mcnemar_tests()
tests.round(4)'''),
    ])


if __name__ == "__main__":
    eda()
    features_and_pipeline()
    for spec in ARCHITECTURES:
        architecture(*spec)
    comparison()
    print(f"wrote {len(list(HERE.glob('*.ipynb')))} notebooks in {HERE}")
