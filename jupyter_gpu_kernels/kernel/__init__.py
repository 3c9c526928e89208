"""The kernel side: the jupyter_client provisioner and kernelspec files."""
