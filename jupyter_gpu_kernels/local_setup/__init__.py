"""``jupyter gpu-kernels start``: set up this machine and start JupyterLab with the extension.

What ``binder/start-local.sh`` calls once the package is installed. One module per step:
:mod:`.daemon` (a reachable Docker daemon, or docker.io installed and dockerd started as root on
Debian), :mod:`.kernel_image` (a local image whose kernel starts, proven by starting it),
:mod:`.demo_image` (the small Debian + ipykernel image built when there is none) and :mod:`.start`
(the steps in order, the "demo" environment, then ``jupyter lab``). Every step says what it does on
stderr; every failure is a :class:`~jupyter_gpu_kernels.errors.LocalSetupError` naming what failed
and what to do. Nothing here is used by the server or the kernel provisioner.
"""
