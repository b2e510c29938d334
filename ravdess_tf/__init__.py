"""ravdess_tf: speech emotion recognition on RAVDESS with Keras 3.

Importing the package is light: Keras and TensorFlow load only when a model
is built, trained or loaded.
"""
from .audio import load_audio
from .data import EMOTIONS, load_metadata, parse_filename
from .download import download, load_or_download
from .exceptions import AudioError, DataNotFoundError, DownloadError, ParameterError
from .features import FeatureConfig, extract_features
from .inference import load_pretrained, load_run
from .models import MODEL_NAMES, build_model
from .splits import PROTOCOLS, make_split, sample_clips

__version__ = "0.1.0"
__all__ = [
    "EMOTIONS", "MODEL_NAMES", "PROTOCOLS", "AudioError", "DataNotFoundError", "DownloadError", "FeatureConfig",
    "ParameterError", "build_model", "download", "extract_features", "load_audio", "load_metadata",
    "load_or_download", "load_pretrained", "load_run", "make_split", "parse_filename", "sample_clips",
]
