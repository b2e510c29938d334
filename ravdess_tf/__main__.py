"""``python -m ravdess_tf`` is the ``ravdess-tf`` command."""
from .cli import main

raise SystemExit(main())
