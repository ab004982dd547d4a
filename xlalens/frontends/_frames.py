"""Which Python frames jax records as an op's source line, for steps built on top of jax.

Imported only inside frontend subprocesses that run jax (torchax, keras-jax).

NOTE: [jax frames at the model] jax locates each op at the innermost frame of its
trace that is not in an excluded path (``jax._src.source_info_util``: jax itself
and the standard library by default). A framework built on jax adds its own layer
of op wrappers: torchax writes every aten op in ``torchax/ops/jaten.py`` (83-85% of
a GPT-2's ops landed there), Keras every op in ``keras/src/backend/jax/numpy.py``.
Excluding those packages (``source_info_util.register_exclusion``, the mechanism
jax uses for its own files) moves each op to the next frame out: the model's
line. A model library's shared utilities are excluded too, so that an op lands in
its model code (``transformers/models/...``), not in a helper every model calls.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterable

FRAMEWORK_PACKAGES = ("torch", "torchax", "torch_xla", "optax", "xlalens")
"""Packages whose frames are never the model's line."""

MODEL_LIBRARIES = {
    "transformers": ("models",),
    "keras_hub": ("src/models", "src/layers"),
}
"""Model library -> its subfolders that hold model code; the rest of it is excluded."""


def _package_dir(name: str) -> str | None:
    spec = importlib.util.find_spec(name)
    locations = list(spec.submodule_search_locations or []) if spec else []
    return locations[0] if locations else None


def exclusions(
    packages: Iterable[str] = FRAMEWORK_PACKAGES,
    libraries: dict[str, tuple[str, ...]] | None = None,
    extra: Iterable[str] = (),
) -> list[str]:
    """Path prefixes to exclude: whole framework packages, and each model library but
    its model folders (those not installed are left out).

    Example:
        >>> any(p.endswith("/torch/") for p in exclusions(("torch",), {}))  # doctest: +SKIP
        True
    """
    out = []
    for name in packages:
        where = _package_dir(name)
        if where:
            out.append(os.path.join(where, ""))
    for name, keep in (MODEL_LIBRARIES if libraries is None else libraries).items():
        where = _package_dir(name)
        if not where:
            continue
        kept = {os.path.normpath(os.path.join(where, k)) for k in keep}
        parents = {os.path.dirname(k) for k in kept}
        for parent in {where, *parents}:
            for entry in sorted(os.listdir(parent)):
                path = os.path.normpath(os.path.join(parent, entry))
                if path in kept or path in parents:
                    continue
                out.append(path + (os.sep if os.path.isdir(path) else ""))
    # The interpreter's own frames (`python -m` runs the frontend through runpy).
    out.append("<frozen ")
    out.extend(extra)
    return out


def locate_at_model(
    packages: Iterable[str] = FRAMEWORK_PACKAGES,
    libraries: dict[str, tuple[str, ...]] | None = None,
    extra: Iterable[str] = (),
) -> list[str]:
    """Tell jax to skip framework and library-utility frames when it records locations.

    Call it before tracing. Returns the prefixes registered.
    """
    from jax._src import source_info_util

    paths = exclusions(packages, libraries, extra)
    for path in paths:
        source_info_util.register_exclusion(path)
    return paths


def keras_exclusions() -> list[str]:
    """Keras's op wrappers (``keras/src/backend``, ``keras/src/ops``): the layer, loss or
    optimizer line that called them says more (the TensorFlow frontend's rule too)."""
    where = _package_dir("keras")
    if not where:
        return []
    return [os.path.join(where, "src", sub, "") for sub in ("backend", "ops")]
