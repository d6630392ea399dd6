"""``python -m edge_envs_cli`` runs the ``edge-envs`` command."""

import sys

from edge_envs_cli import main

sys.exit(main())
