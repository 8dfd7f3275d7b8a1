"""``python -m neurochip.formats.image IMAGE...``: print each image's dump."""

import sys

from .describe import main

sys.exit(main())
