"""``python -m jupyter_gpu_kernels.cli`` is ``jupyter gpu-kernels``."""

import sys

from .app import main

sys.exit(main())
