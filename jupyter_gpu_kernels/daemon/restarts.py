"""Did a kernel's container stop because its Docker daemon restarted? (issue #14)

A daemon that stops (``systemctl restart docker``, an upgrade) stops its containers (exit 143 or
137, 255 when it found them dead at its next start); nothing in the container's state says so.
What does: dockerd keeps its recent events in memory only, so a daemon that (re)started after a
container stopped has no ``die`` event of it in its log although the log reaches back to the
container's ``FinishedAt``. A daemon that was SIGKILLed (or crashed) left its containers running;
the next one kills them at its start (exit 137) and logs their ``die``, but not their ``start``,
which the killed daemon logged: a ``die`` without a ``start`` although the log reaches back to the
container's ``StartedAt`` says the same (not with ``live-restore``, where containers outlive a restart). A log that rolled over (``EVENT_LOG`` events since) cannot tell.

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
    """True when the daemon restarted after ``container`` started and it died of that (no ``die`` in
    the log: the old daemon stopped it; or a ``die`` but no ``start``: it was started by an earlier
    daemon, which was killed, and this one killed it at its start), False when this daemon saw it
    start and die (or die, where the log cannot say about the start), None when the log cannot tell."""
    state = container.attrs.get("State", {})
    finished, started = docker_epoch(state.get("FinishedAt", "")), docker_epoch(state.get("StartedAt", ""))
    info = client.info()
    now = docker_epoch(info.get("SystemTime", ""))
    if finished is None or now is None:
        return None
    since = min(started, finished) if started is not None else finished
    seen_since_start = seen_since_death = 0
    saw_start = saw_die = False
    events = client.events(since=int(math.floor(since)) - 1, until=f"{max(now, finished):.6f}", decode=True)
    try:
        for ev in events:
            seen_since_start += 1
            at = ev.get("timeNano", 0) / 1e9 or float(ev.get("time", 0))
            seen_since_death += at >= math.floor(finished) - 1
            if (ev.get("id") or ev.get("Actor", {}).get("ID", "")) == container.id:
                action = ev.get("Action", ev.get("status"))
                saw_start, saw_die = saw_start or action == "start", saw_die or action == "die"
    finally:
        close = getattr(events, "close", None)
        if close:
            close()
    if not saw_die:
        return True if seen_since_death < EVENT_LOG else None
    if not saw_start and started is not None and seen_since_start < EVENT_LOG and not info.get("LiveRestoreEnabled"):
        return True  # its die is this daemon's, its start an earlier one's: killed at this one's start
    return False


def explained(death: dict[str, Any]) -> dict[str, Any]:
    """``death`` (from :meth:`.containers.ContainerOps.death`) with the daemon restart as its reason."""
    return {**death, "reason": f"the Docker daemon restarted; {death['reason']}", "daemon_restarted": True}
