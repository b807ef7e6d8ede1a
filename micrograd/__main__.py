"""``python -m micrograd <command>``: the command line lives in micrograd/apps/cli.py."""
import sys

from .apps.cli import main

sys.exit(main())
