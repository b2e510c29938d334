import subprocess
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, from PyPI (the dev extra brings it)
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_requirements_match_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = set(project["dependencies"])
    for extra in ("tf", "whisper", "jax", "demo", "cluster", "dev"):
        declared |= set(project["optional-dependencies"][extra])
    listed = {line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
              if line.strip() and not line.startswith("#")}
    assert listed == declared


def test_import_is_light():
    """Importing the package must not pull in TensorFlow or Keras (slow, and absent on JAX machines)."""
    code = "import sys, ravdess_tf; print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
