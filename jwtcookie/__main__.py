"""``python -m jwtcookie``: the command line (see :mod:`jwtcookie.cli`)."""

from __future__ import annotations

import sys

from jwtcookie.cli import main

sys.exit(main())
