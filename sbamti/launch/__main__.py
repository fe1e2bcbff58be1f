"""``python -m sbamti.launch FILE [name:=value ...]``."""

import sys

from sbamti.launch.cli import main

sys.exit(main(sys.argv[1:]))
