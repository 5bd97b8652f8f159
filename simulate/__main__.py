"""``python -m simulate``: the same command line as ``simulate``."""
import sys

from .cli import main

sys.exit(main())
