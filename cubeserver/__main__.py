"""`python -m cubeserver ...`: the same command line as the `cubeserver` console script."""

import sys

from .cli import main

sys.exit(main())
