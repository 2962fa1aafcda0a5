"""``python -m gen_nb`` runs the ``gen-nb`` command (see :mod:`gen_nb.cli`)."""

import sys

from gen_nb.cli import main

sys.exit(main())
