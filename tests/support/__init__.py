"""Test infrastructure for jupyter-gpu-kernels.

Modules:
  dockerd        ensure a Docker daemon is reachable (start one as root on Debian)
  image          build/cache the test images (debootstrap rootfs + ipykernel)
  netns_daemon   extra dockerd instances in their own network namespace
                 (optionally with the fake NVIDIA container toolkit)
  leftovers      find containers our provisioner left behind
  fake_nvidia/   fake ``nvidia-container-runtime-hook`` and ``nvidia-smi``
"""
