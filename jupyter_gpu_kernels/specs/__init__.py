"""Pure input parsing: GPU specs, sizes, CPUs, mounts, environment names. No Docker, no I/O."""
