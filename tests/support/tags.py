"""Image tags a test creates on a shared daemon, removed by their own names (never "all images").

The main daemon and the netns daemons are shared by every test of a session and by concurrent
sessions, so a test cleans up only the tags it made (docs/testing.md, "Shared daemons").
"""

from __future__ import annotations


def remove_tags(client, *refs: str) -> None:
    """Remove each of ``refs`` from ``client``'s daemon; one that is not there is fine."""
    import docker.errors

    for ref in refs:
        try:
            client.images.remove(ref, force=True)
        except docker.errors.ImageNotFound:
            pass
