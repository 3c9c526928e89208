"""GPU-minutes per kernel, environment and user, from container labels and the daemon's events.

Called by the REST usage handler (server/usage_handlers.py), ``jupyter gpu-kernels usage``
(cli/usage.py) and the running-kernels rows (``gpu_minutes``). Reads only: the daemon's
``start``/``die`` events of our labelled containers between ``since`` and ``until`` (event
attributes carry the labels, so removed containers still count), plus containers still running
(they count until ``until``). A kernel with no GPUs counts 0 GPU-minutes; ``all`` counts as
``all_gpus`` devices (the caller knows the host's inventory).
"""

from __future__ import annotations

import math
import re
import time
from datetime import datetime
from typing import Any

from . import labels as L

_TIME = re.compile(r"(\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d)?)(\.\d+)?(Z|[+-]\d\d:?\d\d)?")


def gpu_count(gpus_label: str, all_gpus: int = 1) -> int:
    if gpus_label == "all":
        return max(all_gpus, 1)
    return len([g for g in gpus_label.split(",") if g])


def _epoch(text: str) -> float | None:
    """RFC 3339 / ISO 8601 (Docker's nanoseconds allowed, UTC when no offset) → epoch seconds;
    None for Docker's zero time or anything unreadable."""
    m = _TIME.fullmatch((text or "").strip())
    if not m or m.group(1).startswith("0001-"):
        return None
    head, frac, tz = m.group(1), (m.group(2) or "")[:7], m.group(3) or "+00:00"
    try:
        return datetime.fromisoformat(head + frac + ("+00:00" if tz == "Z" else tz)).timestamp()
    except ValueError:
        return None


def container_intervals(client: Any, since: float, until: float) -> dict[str, dict[str, Any]]:
    """container id → {'labels': …, 'intervals': [(start, end)]}: when each of our containers ran."""
    found: dict[str, dict[str, Any]] = {}
    opened: dict[str, float] = {}
    events = client.events(
        since=int(math.floor(since)),
        until=int(math.ceil(until)),
        decode=True,
        filters={"type": "container", "label": L.KERNEL_ID, "event": ["start", "die"]},
    )
    for ev in events:
        cid = ev.get("id") or ev.get("Actor", {}).get("ID", "")
        attrs = ev.get("Actor", {}).get("Attributes", {}) or {}
        t = ev.get("timeNano", 0) / 1e9 or float(ev.get("time", 0))
        entry = found.setdefault(cid, {"labels": attrs, "intervals": []})
        if ev.get("status", ev.get("Action")) == "start":
            opened[cid] = t
        else:  # die: a container that started before ``since`` counts from ``since``
            entry["intervals"].append((max(opened.pop(cid, since), since), min(t, until)))
    for c in client.containers.list(filters={"label": L.KERNEL_ID, "status": "running"}, ignore_removed=True):
        started = _epoch(c.attrs.get("State", {}).get("StartedAt", "")) or opened.get(c.id)
        if started is None:
            continue
        opened.pop(c.id, None)
        entry = found.setdefault(c.id, {"labels": c.labels or {}, "intervals": []})
        entry["intervals"].append((max(started, since), until))
    for cid, t in opened.items():  # started in the window, no die seen, not running now: until its removal
        found[cid]["intervals"].append((t, until))
    return found


def usage(client: Any, host_name: str, since: float, until: float | None = None, all_gpus: int = 1) -> dict[str, Any]:
    """GPU-minutes on one daemon: rows per kernel, and totals per environment and per user."""
    until = time.time() if until is None else until
    kernels: dict[str, dict[str, Any]] = {}
    for entry in container_intervals(client, since, until).values():
        labels = entry["labels"]
        kid = labels.get(L.KERNEL_ID, "")
        if not kid:
            continue
        count = gpu_count(labels.get(L.GPUS, ""), all_gpus)
        seconds = sum(max(0.0, end - start) for start, end in entry["intervals"])
        row = kernels.setdefault(
            kid,
            {
                "kernel_id": kid,
                "host": labels.get(L.HOST) or host_name,
                "environment": labels.get(L.ENVIRONMENT, ""),
                "user": labels.get(L.OWNER, ""),
                "notebook": labels.get(L.NOTEBOOK, ""),
                "gpus": labels.get(L.GPUS, ""),
                "seconds": 0.0,
                "gpu_minutes": 0.0,
            },
        )
        row["seconds"] += seconds
        row["gpu_minutes"] += count * seconds / 60.0
    return summarize(list(kernels.values()), since, until)


def summarize(rows: list[dict[str, Any]], since: float, until: float) -> dict[str, Any]:
    """Totals per environment and user over kernel rows (of one host or several)."""
    envs: dict[str, float] = {}
    users: dict[str, float] = {}
    for row in rows:
        envs[row["environment"]] = envs.get(row["environment"], 0.0) + row["gpu_minutes"]
        users[row["user"]] = users.get(row["user"], 0.0) + row["gpu_minutes"]
    return {
        "since": since,
        "until": until,
        "kernels": sorted(rows, key=lambda r: -r["gpu_minutes"]),
        "environments": envs,
        "users": users,
        "total_gpu_minutes": sum(envs.values()),
    }


def hosts_usage(hosts: list[Any], since: float, until: float | None = None) -> dict[str, Any]:
    """:func:`usage` over every reachable host (unreachable ones are listed in ``errors``)."""
    from ..hosts.transport import connect

    until = time.time() if until is None else until
    rows: list[dict[str, Any]] = []
    errors: dict[str, str] = {}
    for host in hosts:
        try:
            rows += usage(connect(host), host.name, since, until)["kernels"]
        except Exception as e:  # a report must not fail on one host
            errors[host.name] = str(e)
    out = summarize(rows, since, until)
    out["errors"] = errors
    return out


def running_gpu_minutes(started_iso: str, gpus_label: str, now: float | None = None) -> float:
    """GPU-minutes of a running container from its ``started`` label (the running-kernels rows)."""
    started = _epoch(started_iso)
    if started is None:
        return 0.0
    return gpu_count(gpus_label) * max(0.0, (time.time() if now is None else now) - started) / 60.0


def parse_since(text: str, now: float | None = None) -> float:
    """``--since``/``?since=``: epoch seconds, an ISO 8601 time, or a duration ('90s', '15m', '2h', '7d')."""
    now = time.time() if now is None else now
    text = (text or "").strip()
    if not text:
        return now - 86400.0
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if text[-1] in units and text[:-1].replace(".", "", 1).isdigit():
        return now - float(text[:-1]) * units[text[-1]]
    if text.replace(".", "", 1).isdigit():
        return float(text)
    stamp = _epoch(text if len(text) > 10 else f"{text}T00:00")
    if stamp is None:
        raise ValueError(f"since={text!r}: give epoch seconds, an ISO 8601 time or a duration like 15m")
    return stamp
