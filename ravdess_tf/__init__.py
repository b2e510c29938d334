"""ravdess_tf: speech emotion recognition on RAVDESS with Keras 3."""
from .data import EMOTIONS, download, load_metadata, load_or_download, parse_filename
from .exceptions import AudioError, DataNotFoundError, DownloadError, ParameterError
from .features import FeatureConfig, extract_features, load_audio
from .models import MODEL_NAMES, build_model
from .inference import load_pretrained, load_run
from .splits import PROTOCOLS, make_split

__version__ = "0.1.0"
