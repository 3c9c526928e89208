"""Docker hosts: the registry of named hosts, the transport to each daemon, the SSH connection."""
