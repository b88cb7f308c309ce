"""``python -m bot.cli``: the same as the ``studybot`` command."""

import sys

from bot.cli.main import main

sys.exit(main())
