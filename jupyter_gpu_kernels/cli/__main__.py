"""``python -m jupyter_gpu_kernels.cli`` is ``jupyter gpu-kernels``: exits with :func:`.app.main`'s status."""

import sys

from .app import main

sys.exit(main())
