"""``python -m kconnect.cli <subcommand>``, as the ``kconnect`` command."""

import sys

from kconnect.cli import main

sys.exit(main())
