"""`python -m turnero`: the `turnero` command."""

import sys

from turnero.cli import main

sys.exit(main())
