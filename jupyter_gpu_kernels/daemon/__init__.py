"""Everything that talks to one Docker daemon: the launch plan, images, networks, GPU inventory and choice, workspace volumes, container labels."""
