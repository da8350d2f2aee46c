"""``python -m drift_assets.cli``: the same as the ``drift-assets`` command."""

import sys

from drift_assets.cli import main

sys.exit(main())
