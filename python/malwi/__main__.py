"""`python -m malwi` is the `malwi` command."""

import sys

from malwi.cli import main

sys.exit(main())
