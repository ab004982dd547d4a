"""The compile targets: names, topologies, plugins and published peaks.

A target name is ``CHIP`` (one device), ``CHIPxN`` (N devices, e.g. ``h100x8``)
or ``CHIP:MESH`` (a TPU mesh, e.g. ``tpu-v5e:2x4``). Each chip row says which
PJRT plugin compiles for it, how its compile-only topology is asked for, and the
published peak FLOP/s and memory bandwidth the roofline *estimate* uses.

NOTE: [published peaks, not measurements]
``flops_per_s`` are the vendor's dense (no sparsity) matrix-unit rates. For f32
programs we use the rate XLA reaches at its DEFAULT precision: TF32 tensor cores
on NVIDIA GPUs (A100 and later), one bf16 pass on the TPU MXU. These numbers are
upper bounds from datasheets; the roofline built from them is an estimate, never a
measurement (``xlalens time`` measures on hardware you have).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from xlalens._errors import UsageError

TARGETS_DIR = "targets"
"""Where a dump keeps its target compiles: ``DIR/targets/<key>.json`` and ``DIR/targets/<key>/``."""
KINDS = ("cpu", "gpu", "tpu")
# Distribution (pip) name of the plugin each kind needs; "" when jaxlib has it.
PLUGIN_PACKAGE = {"cpu": "", "gpu": "jax-cuda12-plugin", "tpu": "libtpu"}


@dataclass(frozen=True, slots=True)
class Chip:
    """One accelerator model xlalens compiles for."""

    name: str
    """The name users type (``h100``, ``tpu-v5e``, ``cpu``)."""
    kind: str
    """``cpu``, ``gpu`` or ``tpu``: which PJRT plugin compiles for it."""
    description: str
    """Human name of the device."""
    topology_chip: str
    """Chip name handed to ``get_topology_desc`` (``h100``, ``v5e``); empty for cpu."""
    mesh_rank: int
    """Dimensions of a TPU mesh (2 for v5e/v6e, 3 for v4/v5p); 0 for others."""
    min_mesh: tuple[int, ...]
    """Smallest mesh libtpu accepts (it must divide the host bounds), for TPU chips."""
    flops_per_s: dict[str, float]
    """Published dense peak FLOP/s per dot dtype (``f32``: at XLA's DEFAULT precision)."""
    bytes_per_s: float
    """Published memory (HBM) bandwidth, bytes per second."""
    memory_bytes: int
    """Device memory, bytes."""
    spec_file: str
    """GpuTargetConfigProto text file under xlalens/targets/specs/ (GPU only)."""


CHIPS: dict[str, Chip] = {
    c.name: c
    for c in (
        Chip("cpu", "cpu", "this host's CPU (XLA:CPU)", "", 0, (), {}, 0.0, 0, ""),
        Chip(
            "h100", "gpu", "NVIDIA H100 SXM 80GB", "h100", 0, (),
            {"bf16": 989.4e12, "f32": 494.7e12}, 3.35e12, 80 << 30, "h100.txtpb",
        ),
        Chip(
            "h200", "gpu", "NVIDIA H200 SXM 141GB", "h200", 0, (),
            {"bf16": 989.4e12, "f32": 494.7e12}, 4.8e12, 141 << 30, "h200.txtpb",
        ),
        Chip(
            "a100", "gpu", "NVIDIA A100 SXM 80GB", "a100", 0, (),
            {"bf16": 312e12, "f32": 156e12}, 2.039e12, 80 << 30, "a100.txtpb",
        ),
        Chip(
            "b200", "gpu", "NVIDIA B200 180GB", "b200", 0, (),
            {"bf16": 2.25e15, "f32": 1.1e15}, 8.0e12, 180 << 30, "b200.txtpb",
        ),
        Chip(
            "tpu-v4", "tpu", "Google TPU v4", "v4", 3, (2, 2, 1),
            {"bf16": 275e12, "f32": 275e12}, 1.2e12, 32 << 30, "",
        ),
        Chip(
            "tpu-v5e", "tpu", "Google TPU v5e", "v5e", 2, (2, 2),
            {"bf16": 197e12, "f32": 197e12}, 819e9, 16 << 30, "",
        ),
        Chip(
            "tpu-v5p", "tpu", "Google TPU v5p", "v5p", 3, (2, 2, 1),
            {"bf16": 459e12, "f32": 459e12}, 2.765e12, 95 << 30, "",
        ),
        Chip(
            "tpu-v6e", "tpu", "Google TPU v6e (Trillium)", "v6e", 2, (2, 2),
            {"bf16": 918e12, "f32": 918e12}, 1.64e12, 32 << 30, "",
        ),
    )
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Target:
    """A chip and how many of its devices (or which mesh) to compile for."""

    chip: Chip
    """The accelerator model."""
    devices: int
    """Devices the topology holds (the module may use fewer)."""
    mesh: tuple[int, ...]
    """TPU mesh handed to libtpu (e.g. ``(2, 4)``); empty for cpu/gpu."""
    spelled: str
    """What the user typed (``tpu-v5e:2x4``)."""
    on_device: bool = False
    """Compile on the attached device of this kind instead of compile-only (the truth check)."""

    @property
    def key(self) -> str:
        """File-safe name: ``h100``, ``h100x8``, ``tpu-v5e``, ``tpu-v5e-2x4`` (``h100@device``).

        Used for ``DIR/targets/<key>.json`` and in ``DIR:fe:artifact@<key>``.
        """
        if self.chip.kind == "tpu":
            if self.mesh == self.chip.min_mesh:
                key = self.chip.name
            else:
                key = f"{self.chip.name}-{'x'.join(map(str, self.mesh))}"
        else:
            key = self.chip.name if self.devices == 1 else f"{self.chip.name}x{self.devices}"
        return f"{key}@device" if self.on_device else key

    @property
    def topology(self) -> str:
        """The ``get_topology_desc`` topology string (``1x1x8``, ``v5e:2x4``); empty for cpu."""
        if self.chip.kind == "gpu":
            return f"1x1x{self.devices}"
        if self.chip.kind == "tpu":
            return f"{self.chip.topology_chip}:{'x'.join(map(str, self.mesh))}"
        return ""

    def spec_text(self) -> str:
        """The GpuTargetConfigProto text of a GPU target ("" for others)."""
        if not self.chip.spec_file:
            return ""
        return spec_path(self.chip.name).read_text()


def spec_path(chip: str) -> Path:
    """Path of a GPU chip's GpuTargetConfigProto text file (package data)."""
    return Path(str(resources.files("xlalens.targets") / "specs" / CHIPS[chip].spec_file))


def valid_names() -> str:
    """One line listing the accepted spellings, for error messages."""
    return f"{', '.join(CHIPS)}; add xN for N devices (h100x8) or a TPU mesh (tpu-v5e:2x4, tpu-v4:2x2x2)"


def _mesh_for(chip: Chip, count: int) -> tuple[int, ...]:
    """The smallest valid mesh holding ``count`` devices (min mesh, then doubling)."""
    mesh = list(chip.min_mesh)
    axis = len(mesh) - 1 if chip.mesh_rank == 3 else 1
    while _prod(mesh) < count:
        mesh[axis] *= 2
        axis = (axis + 1) % chip.mesh_rank if chip.mesh_rank == 2 else (axis + 1) % 3
    return tuple(mesh)


def _prod(xs: list[int] | tuple[int, ...]) -> int:
    out = 1
    for x in xs:
        out *= x
    return out


_NAME = re.compile(r"^(?P<chip>[a-z0-9-]+?)(?:x(?P<count>\d+))?(?::(?P<mesh>\d+(?:x\d+)*))?$")


def parse_target(spelled: str) -> Target:
    """Parse one target name.

    Args:
        spelled: ``h100``, ``h100x8``, ``tpu-v5e``, ``tpu-v5e:2x4``, ``tpu-v5ex8``,
            ``cpu``, ``cpux4``, or a key as written in a dump (``tpu-v5e-2x4``).

    Returns:
        The :class:`Target`.

    Raises:
        UsageError: an unknown chip or a malformed count/mesh; the message lists the
            valid names.

    Example:
        >>> parse_target("tpu-v5e:2x4").topology
        'v5e:2x4'
    """
    text = str(spelled).strip().lower()
    # The file-safe key form tpu-v5e-2x4 reads as tpu-v5e:2x4.
    m_key = re.match(r"^(tpu-v\d+[a-z]?)-(\d+(?:x\d+)+)$", text)
    if m_key:
        text = f"{m_key.group(1)}:{m_key.group(2)}"
    m = _NAME.match(text)
    chip = CHIPS.get(m.group("chip")) if m else None
    if m is None or chip is None:
        raise UsageError(f"unknown target {spelled!r}; valid targets: {valid_names()}")
    count = int(m.group("count")) if m.group("count") else None
    mesh_s = m.group("mesh")
    if count is not None and count < 1:
        raise UsageError(f"target {spelled!r}: the device count must be at least 1")
    if mesh_s and chip.kind != "tpu":
        raise UsageError(
            f"target {spelled!r}: a mesh (:AxB) is for TPU chips; write {chip.name}xN for N devices"
        )
    if chip.kind == "tpu":
        if mesh_s:
            mesh = tuple(int(x) for x in mesh_s.split("x"))
            if len(mesh) != chip.mesh_rank or min(mesh) < 1:
                example = "x".join(["2"] * chip.mesh_rank)
                raise UsageError(
                    f"target {spelled!r}: {chip.name} takes a {chip.mesh_rank}-D mesh such as "
                    f"{chip.name}:{example}"
                )
            # libtpu refuses a layout that is not a whole number of hosts
            # ("Topology layout "v5e:3x3" is not divisible by the given (or default)
            # chips_per_host_bounds "2x2x1"", libtpu 0.0.42): say so before any work.
            if any(m % h for m, h in zip(mesh, chip.min_mesh)):
                fixed = "x".join(str(-(-m // h) * h) for m, h in zip(mesh, chip.min_mesh))
                raise UsageError(
                    f"target {spelled!r}: each side of a {chip.name} mesh must be a multiple of "
                    f"the host's {'x'.join(map(str, chip.min_mesh))} chips; e.g. {chip.name}:{fixed}"
                )
        else:
            mesh = _mesh_for(chip, count or 1)
        return Target(chip, _prod(mesh), mesh, spelled)
    return Target(chip, count or 1, (), spelled)


def parse_targets(spec: str | list[str] | tuple[str, ...]) -> list[Target]:
    """Parse ``NAME[,NAME...]`` (or a list of names), keeping order, dropping repeats.

    Raises:
        UsageError: an unknown name (one line listing the valid ones), or none given.

    Example:
        >>> [t.key for t in parse_targets("cpu,h100x8,tpu-v5e:2x4")]
        ['cpu', 'h100x8', 'tpu-v5e-2x4']
    """
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    names = [n.strip() for n in names if n and n.strip()]
    if not names:
        raise UsageError(f"no target given; valid targets: {valid_names()}")
    out: list[Target] = []
    for n in names:
        t = parse_target(n)
        if t.key not in {o.key for o in out}:
            out.append(t)
    return out
