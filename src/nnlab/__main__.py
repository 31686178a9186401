"""`python -m nnlab ...`: the same as the `nnlab` command."""
import sys

from .cli import main

sys.exit(main())
