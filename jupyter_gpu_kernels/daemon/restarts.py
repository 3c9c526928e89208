"""Did a kernel's container stop because its Docker daemon restarted? (issue #14)

A daemon that stops (``systemctl restart docker``, an upgrade) stops its containers (exit 143 or
137, 255 when it found them dead at its next start); nothing in the container's state says so.
What does: dockerd keeps its recent events in memory only, so a daemon that (re)started after a
container stopped has no ``die`` event of it in its log although the log reaches back to the
container's ``FinishedAt``. A log that rolled over (``EVENT_LOG`` events since) cannot tell.

Blocking docker-py, called from a worker thread by :class:`..kernel.watch.ContainerWatch`
through :meth:`.containers.ContainerOps.daemon_restarted`.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

EVENT_LOG = 256  # dockerd's in-memory event log (moby daemon/events: eventsLimit)
_TIME = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?")


def docker_epoch(text: str) -> float | None:
    """Docker's RFC 3339 time (nanoseconds allowed) → epoch seconds; None for its zero time."""
    m = _TIME.fullmatch((text or "").strip())
    if not m or m.group(1).startswith("0001-"):
        return None
    tz = m.group(3) or "Z"
    try:
        return datetime.fromisoformat(m.group(1) + (m.group(2) or "")[:7] + ("+00:00" if tz == "Z" else tz)).timestamp()
    except ValueError:
        return None


def daemon_restarted_since(client: Any, container: Any) -> bool | None:
    """True when the daemon restarted after ``container`` stopped, False when it saw it stop,
    None when its event log cannot tell (no times, or the log rolled over since)."""
    finished = docker_epoch(container.attrs.get("State", {}).get("FinishedAt", ""))
    now = docker_epoch(client.info().get("SystemTime", ""))
    if finished is None or now is None:
        return None
    seen = 0
    events = client.events(since=int(math.floor(finished)) - 1, until=f"{max(now, finished):.6f}", decode=True)
    try:
        for ev in events:
            seen += 1
            cid = ev.get("id") or ev.get("Actor", {}).get("ID", "")
            if cid == container.id and ev.get("Action", ev.get("status")) == "die":
                return False
    finally:
        close = getattr(events, "close", None)
        if close:
            close()
    return True if seen < EVENT_LOG else None


def explained(death: dict[str, Any]) -> dict[str, Any]:
    """``death`` (from :meth:`.containers.ContainerOps.death`) with the daemon restart as its reason."""
    return {**death, "reason": f"the Docker daemon restarted; {death['reason']}", "daemon_restarted": True}
