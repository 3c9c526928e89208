"""Unit test of a pull's byte and layer counts (daemon/images.PullCounts) from the daemon's progress
events in the order a real daemon sends them; tests/test_pull.py pulls for real."""

from __future__ import annotations

from jupyter_gpu_kernels.daemon.images import PullCounts


def _events(counts: PullCounts, *events: tuple[str, str, dict | None]) -> dict:
    for layer, status, detail in events:
        counts.add({"id": layer, "status": status, "progressDetail": detail or {}})
    return counts.to_json()


def test_no_total_while_a_layer_size_is_unknown():
    c = PullCounts()
    # three layers announced; the small one downloads and completes before the big one starts
    got = _events(
        c,
        ("a", "Pulling fs layer", None),
        ("b", "Pulling fs layer", None),
        ("c", "Waiting", None),
        ("a", "Downloading", {"current": 1_000_000, "total": 2_000_000}),
        ("a", "Download complete", None),
    )
    assert got == {"bytes_done": 2_000_000, "bytes_total": None, "layers_done": 0, "layers_total": 3}

    got = _events(c, ("b", "Downloading", {"current": 5_000_000, "total": 600_000_000}))
    assert got["bytes_total"] is None, "layer c has no size yet"

    got = _events(c, ("c", "Downloading", {"current": 0, "total": 10_000_000}))
    assert got == {"bytes_done": 7_000_000, "bytes_total": 612_000_000, "layers_done": 0, "layers_total": 3}

    got = _events(
        c,
        ("a", "Pull complete", None),
        ("b", "Download complete", None),
        ("c", "Extracting", None),
        ("b", "Pull complete", None),
        ("c", "Pull complete", None),
    )
    assert got == {"bytes_done": 612_000_000, "bytes_total": 612_000_000, "layers_done": 3, "layers_total": 3}


def test_layers_already_present_or_without_a_size_do_not_hold_the_total():
    c = PullCounts()
    got = _events(
        c,
        ("a", "Already exists", None),
        ("b", "Pulling fs layer", None),
        ("c", "Pulling fs layer", None),
        ("c", "Verifying Checksum", None),
        ("c", "Download complete", None),  # a tiny layer: no Downloading event with a total
        ("b", "Downloading", {"current": 10, "total": 100}),
    )
    assert got == {"bytes_done": 10, "bytes_total": 100, "layers_done": 1, "layers_total": 3}
