"""``python -m cli`` is ``llm-router``."""

import sys

from cli import main

sys.exit(main())
