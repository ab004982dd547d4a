"""Reading dump folders and ``DIR:frontend[:artifact]`` entries (see docs/dump-format.md)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from xlalens._errors import DumpError

FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
"""Dump format versions this xlalens reads (1: outputs as JSON lists; 2: outputs.npz)."""
MANIFEST = "manifest.json"
ARTIFACTS = ("stablehlo", "hlo", "optimized_hlo", "outputs", "inputs")


@dataclass(frozen=True, slots=True)
class DumpEntry:
    """One artifact of one frontend of a dump."""

    dump: Path
    """The dump folder."""
    frontend: str
    """Frontend name, a key of ``manifest['frontends']``."""
    artifact: str
    """One of :data:`ARTIFACTS`."""
    path: Path
    """Absolute path of the artifact file."""
    manifest: dict[str, Any]
    """The whole manifest (JSON edge: plain dict)."""

    @property
    def info(self) -> dict[str, Any]:
        """The frontend's manifest entry."""
        return self.manifest["frontends"][self.frontend]


def is_dump(path: str | Path) -> bool:
    """True when ``path`` is a folder holding an xlalens manifest."""
    return (Path(path) / MANIFEST).is_file()


def read_manifest(path: str | Path) -> dict[str, Any]:
    """Load and check a dump's manifest.

    Raises:
        DumpError: the folder or manifest is missing, unreadable or of another version.
    """
    folder = Path(path)
    mf = folder / MANIFEST
    if folder.is_file():
        inside = next((p for p in folder.parents if (p / MANIFEST).is_file()), None)
        if folder.name == MANIFEST or inside is not None:
            dump = folder.parent if folder.name == MANIFEST else inside
            raise DumpError(
                f"{str(folder)!r} is a file of the dump {str(dump)!r}; give the dump folder "
                f"itself ({dump}), or DIR:frontend[:artifact] for one of its files"
            )
        raise DumpError(
            f"{str(folder)!r} is a file, not a dump folder; give a folder written by "
            "`xlalens dump -o DIR`"
        )
    if not folder.is_dir():
        raise DumpError(
            f"dump folder {str(folder)!r} does not exist; create one with `xlalens dump -o {folder}`"
        )
    if not mf.is_file():
        raise DumpError(
            f"{str(folder)!r} is not an xlalens dump (no {MANIFEST}); create one with `xlalens dump -o DIR`"
        )
    try:
        manifest = json.loads(mf.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DumpError(f"{mf}: unreadable manifest ({exc}); re-run `xlalens dump`") from exc
    if manifest.get("format_version") not in READABLE_VERSIONS:
        raise DumpError(
            f"{mf}: format_version {manifest.get('format_version')!r}, this xlalens reads "
            f"{', '.join(map(str, READABLE_VERSIONS))}; re-run `xlalens dump` with this version"
        )
    return manifest


def looks_like_entry(spec: str) -> bool:
    """True when ``spec`` is ``DIR:frontend[:artifact][@target]`` with DIR an existing dump."""
    parts = str(spec).split("@", 1)[0].split(":")
    return len(parts) in (2, 3) and is_dump(parts[0])


# NOTE: [entry resolvers] ``DIR:fe[:artifact]@TARGET`` names a target compile, which
# the targets stage writes and alone knows how to find. The ground floor imports no
# stage (docs/architecture.md), so the stage registers its resolver here when it is
# imported; ``import xlalens`` (run before any ``xlalens.*`` module) imports it.
ENTRY_RESOLVERS: dict[str, Callable[[str], DumpEntry]] = {}
"""Spec marker -> resolver of the entries a stage writes (``"@"``: xlalens.targets)."""


def resolve_entry(spec: str, *, default_artifact: str = "stablehlo") -> DumpEntry:
    """Resolve ``DIR:frontend[:artifact]`` to the artifact's file.

    Args:
        spec: e.g. ``"xlalens-dump:jax"`` or ``"xlalens-dump:torch_xla:optimized_hlo"``.
        default_artifact: artifact when the spec names none.

    Returns:
        The :class:`DumpEntry`.

    Raises:
        DumpError: the dump, frontend or artifact does not exist; the message lists
            what does.

    Example:
        >>> resolve_entry("xlalens-dump:jax:hlo").path  # doctest: +SKIP
    """
    if "@" in str(spec):  # DIR:frontend[:artifact]@target: a target compile (docs/targets.md)
        resolver = ENTRY_RESOLVERS.get("@")
        if resolver is None:
            raise DumpError(
                f"{spec!r}: a target entry needs xlalens.targets; `import xlalens` first"
            )
        return resolver(str(spec))
    parts = str(spec).split(":")
    if len(parts) not in (2, 3):
        raise DumpError(
            f"{spec!r}: a dump entry is DIR:frontend[:artifact], e.g. xlalens-dump:jax:hlo"
        )
    folder, frontend = Path(parts[0]), parts[1]
    artifact = parts[2] if len(parts) == 3 else default_artifact
    manifest = read_manifest(folder)
    fronts = manifest.get("frontends", {})
    if frontend not in fronts:
        raise DumpError(
            f"{spec!r}: no frontend {frontend!r} in {folder}; it has: {', '.join(fronts) or 'none'}"
        )
    info = fronts[frontend]
    if artifact not in ARTIFACTS:
        raise DumpError(
            f"{spec!r}: unknown artifact {artifact!r}; choose one of {', '.join(ARTIFACTS)}"
        )
    rel = info.get("artifacts", {}).get(artifact)
    if info.get("status") != "ok" or not rel:
        raise DumpError(
            f"{spec!r}: frontend {frontend!r} has no {artifact} (status {info.get('status')}: "
            f"{(info.get('reason') or '').splitlines()[-1:] or ''}); re-run the dump for it"
        )
    path = (folder / rel).resolve()
    if not path.is_file():
        raise DumpError(
            f"{spec!r}: {path} is listed in the manifest but missing; re-run `xlalens dump`"
        )
    return DumpEntry(
        dump=folder.resolve(), frontend=frontend, artifact=artifact, path=path, manifest=manifest
    )


OUTPUTS_DATA = "outputs.npz"


@dataclass(frozen=True, slots=True)
class Outputs:
    """What a frontend's native step returned (``outputs.json`` + ``outputs.npz``)."""

    loss: float | None
    """The loss the framework reported, if any."""
    loss_kind: str
    """``before_update``, ``after_update`` or ``none``."""
    results: list[np.ndarray]
    """One array per StableHLO result, in order, in its own dtype."""
    params: dict[str, np.ndarray]
    """Updated parameters by role, ``w`` in the ``[in, out]`` layout."""
    summary: dict[str, Any] = field(default_factory=dict)
    """The ``outputs.json`` document itself (shapes, dtypes, norms, checksums)."""


def read_outputs(path: str | Path) -> Outputs:
    """Read a frontend's ``outputs.json`` and the arrays it points to.

    Format 2 keeps the arrays in ``outputs.npz`` beside it (``result<i>``, and
    ``param.<role>`` for a parameter that is not one of the results); format 1
    dumps kept them as JSON lists, which are still read.

    Args:
        path: the ``outputs.json`` file.

    Returns:
        The :class:`Outputs`.

    Raises:
        DumpError: the files are missing or unreadable.

    Example:
        >>> read_outputs("xlalens-dump/jax/outputs.json").params["w"]  # doctest: +SKIP
    """
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DumpError(f"{path}: unreadable outputs ({exc}); re-run `xlalens dump`") from exc
    if "data" not in doc:  # format 1: values inline
        results = [np.asarray(r["value"], dtype=r["dtype"]) for r in doc.get("results", [])]
        params = {k: np.asarray(v, dtype=np.float64) for k, v in (doc.get("params") or {}).items()}
        return Outputs(doc.get("loss"), doc.get("loss_kind", "none"), results, params, doc)
    data = path.parent / doc["data"]
    try:
        with np.load(data, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (OSError, ValueError) as exc:
        raise DumpError(f"{data}: unreadable outputs data ({exc}); re-run `xlalens dump`") from exc
    results = [arrays[f"result{i}"] for i in range(len(doc["results"]))]
    params: dict[str, np.ndarray] = {}
    for role, info in (doc.get("params") or {}).items():
        if "result" in info:
            arr = results[info["result"]]
            params[role] = arr.T if info.get("transposed") else arr
        else:
            params[role] = arrays[info["array"]]
    return Outputs(doc.get("loss"), doc.get("loss_kind", "none"), results, params, doc)
