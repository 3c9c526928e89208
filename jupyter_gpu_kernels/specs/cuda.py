"""An image's CUDA/driver requirement (``NVIDIA_REQUIRE_*``) and whether a host's driver meets it.

Pure functions, no Docker: called by :mod:`..daemon.images` (the image list's ``cuda_requirement``
and ``cuda_ok``), :mod:`..kernel.planning` (refusing a GPU launch before anything is created) and
:mod:`..daemon.containers` (translating the toolkit's own "unsatisfied condition" error).

The rules are those of the NVIDIA Container Toolkit (``internal/config/image/cuda_image.go``,
``GetRequirements``) and libnvidia-container (``src/cli/dsl.c``):

- every ``NVIDIA_REQUIRE_*`` variable of the container (except ``NVIDIA_REQUIRE_JETPACK*``) is a
  requirement, and all of them must hold;
- in one requirement, space-separated alternatives are ORed and comma-separated conditions
  within an alternative are ANDed: ``cuda>=12.4 brand=tesla,driver>=470,driver<471``;
- a condition is ``<key><op><value>`` with key ``cuda``, ``driver``, ``arch`` or ``brand`` and op
  one of ``= == != < <= > >=``; versions compare numerically, part by part;
- a "legacy" image (``CUDA_VERSION`` set, no ``NVIDIA_REQUIRE_CUDA``) requires
  ``cuda>=<major.minor of CUDA_VERSION>``;
- ``NVIDIA_DISABLE_REQUIRE`` true (Go's ``strconv.ParseBool``: 1, t, T, true, True, TRUE) skips it all.

What this side cannot know (``brand``, ``arch``) counts as satisfied: a pre-check must not refuse
what the toolkit would allow; the toolkit still checks at container start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CONDITION = re.compile(r"^(cuda|driver|arch|brand)(==|!=|<=|>=|=|<|>)(\S+)$")
_TRUE = ("1", "t", "T", "true", "True", "TRUE")
UNSATISFIED = re.compile(r"unsatisfied condition: (\S+?)(?:,|\s|$)")


@dataclass(frozen=True)
class Condition:
    key: str
    op: str
    value: str

    def __str__(self) -> str:
        return f"{self.key}{self.op}{self.value}"


def version_tuple(text: str) -> tuple[int, ...]:
    """'12.4' → (12, 4); '550.54.15' → (550, 54, 15); non-numeric parts count as 0."""
    parts = []
    for part in str(text).strip().split("."):
        digits = re.match(r"\d+", part)
        parts.append(int(digits.group()) if digits else 0)
    return tuple(parts)


def _compare(have: tuple[int, ...], op: str, want: tuple[int, ...]) -> bool:
    width = max(len(have), len(want))
    have, want = have + (0,) * (width - len(have)), want + (0,) * (width - len(want))
    return {
        "=": have == want,
        "==": have == want,
        "!=": have != want,
        "<": have < want,
        "<=": have <= want,
        ">": have > want,
        ">=": have >= want,
    }[op]


def parse_requirement(text: str) -> list[list[Condition]]:
    """One requirement string → alternatives (ORed) of conditions (ANDed); ValueError names a bad one."""
    alternatives = []
    for alternative in text.split():
        conditions = []
        for item in alternative.split(","):
            if not item:
                continue
            match = _CONDITION.match(item)
            if match is None:
                raise ValueError(f"invalid NVIDIA_REQUIRE condition {item!r}: expected e.g. cuda>=12.4 or driver>=470")
            conditions.append(Condition(*match.groups()))
        if conditions:
            alternatives.append(conditions)
    return alternatives


def disabled(env: dict[str, str]) -> bool:
    return env.get("NVIDIA_DISABLE_REQUIRE", "") in _TRUE


def requirements(env: dict[str, str]) -> list[str]:
    """The requirement strings of a container environment ([] when disabled or none)."""
    if disabled(env):
        return []
    found = [
        v
        for k, v in sorted(env.items())
        if k.startswith("NVIDIA_REQUIRE_") and not k.startswith("NVIDIA_REQUIRE_JETPACK") and v.strip()
    ]
    if env.get("CUDA_VERSION") and not env.get("NVIDIA_REQUIRE_CUDA", "").strip():
        found.append("cuda>=" + ".".join(str(p) for p in version_tuple(env["CUDA_VERSION"])[:2]))
    return found


def env_dict(env_list: list[str] | None) -> dict[str, str]:
    """An image config's ``Env`` (``["K=V", ...]``) as a dict."""
    out = {}
    for item in env_list or []:
        key, _, value = str(item).partition("=")
        out[key] = value
    return out


def _holds(cond: Condition, cuda: str | None, driver: str | None) -> bool:
    have = {"cuda": cuda, "driver": driver}.get(cond.key)
    if have is None:
        return True  # unknown here (brand, arch, or no version reported): the toolkit decides
    return _compare(version_tuple(have), cond.op, version_tuple(cond.value))


def unsatisfied(env: dict[str, str], cuda: str | None, driver: str | None) -> Condition | None:
    """The first failing condition (of a requirement with no satisfied alternative), else None."""
    return unsatisfied_requirements(requirements(env), cuda, driver)


def unsatisfied_requirements(texts: list[str], cuda: str | None, driver: str | None) -> Condition | None:
    """:func:`unsatisfied` for requirement strings (as :func:`requirements` returns them)."""
    for text in texts:
        try:
            alternatives = parse_requirement(text)
        except ValueError:
            continue  # the toolkit reports malformed requirements itself
        failing = None
        for conditions in alternatives:
            bad = next((c for c in conditions if not _holds(c, cuda, driver)), None)
            if bad is None:
                failing = None
                break
            failing = failing or bad
        if failing is not None:
            return failing
    return None


def needed_cuda(env: dict[str, str]) -> str | None:
    """The lowest CUDA version the image accepts (from its ``cuda>=`` conditions), for messages."""
    best = None
    for text in requirements(env):
        try:
            alternatives = parse_requirement(text)
        except ValueError:
            continue
        for conditions in alternatives:
            for c in conditions:
                if c.key == "cuda" and c.op in (">=", ">", "=", "=="):
                    if best is None or version_tuple(c.value) < version_tuple(best):
                        best = c.value
    return best


def mismatch_message(image: str, host: str, condition: str, cuda: str | None, driver: str | None) -> str:
    """The user-facing refusal naming both versions and the two ways out."""
    key, op, value = _CONDITION.match(condition).groups() if _CONDITION.match(condition) else ("cuda", ">=", condition)
    need = f"{key.upper() if key == 'cuda' else key} {op} {value}"
    have = f"driver {driver or '(unknown version)'} supports CUDA {cuda or '(unknown)'}"
    if key == "cuda" and op in (">=", ">"):
        fix = f"upgrade the driver or use an image built for CUDA <= {cuda or 'the host supports'}"
    else:
        fix = (
            "use an image whose NVIDIA_REQUIRE_CUDA this driver meets, or set NVIDIA_DISABLE_REQUIRE=1 at your own risk"
        )
    return f"image {image} needs {need}; host {host!r} {have}: {fix}"


def unsatisfied_in_text(text: str) -> str | None:
    """The condition of the toolkit's ``requirement error: unsatisfied condition: cuda>=X`` text."""
    match = UNSATISFIED.search(text)
    return match.group(1) if match and "requirement error" in text else None


def image_cuda_status(
    image: str, host: str, texts: list[str], has_driver: bool, cuda: str | None, driver: str | None
) -> dict:
    """``cuda_ok`` (None: nothing to check or no driver to check against) and ``cuda_message``
    for one image's requirement strings on one host, as the image list shows them."""
    if not texts or not has_driver:
        return {"cuda_ok": None, "cuda_message": None}
    bad = unsatisfied_requirements(texts, cuda, driver)
    if bad is None:
        return {"cuda_ok": True, "cuda_message": None}
    return {"cuda_ok": False, "cuda_message": mismatch_message(image, host, str(bad), cuda, driver)}
