"""``python -m simulate``: the same command line as ``simulate``."""
import sys

try:
    from .cli import main
except KeyboardInterrupt:       # Ctrl-C while the libraries load: the same quiet exit as later on
    print("simulate: interrupted", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
