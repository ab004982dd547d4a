"""Which Python frames jax records as an op's source line: the one rule for every
frontend that traces with jax (jax, keras-jax, torchax).

Imported only inside frontend subprocesses that run jax.

NOTE: [jax frames at the model] jax locates each op at the innermost frame of its
trace that is not in an excluded path (``jax._src.source_info_util``: jax itself
and the standard library by default). A framework built on jax adds its own layer
of op wrappers: torchax writes every aten op in ``torchax/ops/jaten.py`` (83-85% of
a GPT-2's ops landed there), Keras every op in ``keras/src/backend/jax/numpy.py``.
Excluding those packages (``source_info_util.register_exclusion``, the mechanism
jax uses for its own files) moves each op to the next frame out: the model's
line. A model library's shared utilities are excluded too, so that an op lands in
its model code (``transformers/models/...``), not in a helper every model calls;
and so is the plumbing of the libraries a model is written with (module
wrappers, variable bookkeeping, pytree machinery: :data:`INTERNAL_PATHS`), and
xlalens itself: its capture plumbing always (else constants and ops traced with
no user frame point at it), all of it when the step is a user's own code (a
built-in workload's model code lives in xlalens). An excluded frame also leaves
the call stack kept in the StableHLO's locations.
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

INTERNAL_PATHS: dict[str, tuple[str, ...]] = {
    "xlalens": (
        "frontends/_jaxlike.py",
        "frontends/_protocol.py",
        "frontends/_spmd_jax.py",
        "frontends/_spmd_keras.py",
        "frontends/_spmd_plan.py",
        "frontends/_torchlike.py",
        "capture/",
    ),
    "flax": (
        "core/",
        "linen/module.py",
        "linen/transforms.py",
        "linen/kw_only_dataclasses.py",
        "nnx/graph.py",
        "nnx/variablelib.py",
        "nnx/object.py",
        "nnx/pytreelib.py",
        "nnx/module.py",
        "nnx/statelib.py",
        "nnx/transforms/",
        "nnx/tracers.py",
        "nnx/reprlib.py",
        "struct.py",
        "traceback_util.py",
    ),
    "equinox": ("_module/", "_module.py", "_filters.py", "_tree.py", "_ad.py", "_jit.py"),
    "jaxtyping": ("",),
    # Keras's op wrappers: the layer, loss or optimizer line that called them says more
    # (the TensorFlow frontend's rule too).
    "keras": ("src/backend/", "src/ops/", "src/utils/"),
}
"""Package -> paths of its plumbing (relative to the package folder; a folder ends with
``/``, ``""`` is the whole package): never the model's line."""


def _package_dir(name: str) -> str | None:
    spec = importlib.util.find_spec(name)
    locations = list(spec.submodule_search_locations or []) if spec else []
    return locations[0] if locations else None


def exclusions(
    packages: Iterable[str] = FRAMEWORK_PACKAGES,
    libraries: dict[str, tuple[str, ...]] | None = None,
    extra: Iterable[str] = (),
    internal: dict[str, tuple[str, ...]] | None = None,
) -> list[str]:
    """Path prefixes to exclude: whole framework packages, each model library but its
    model folders, and the plumbing paths of :data:`INTERNAL_PATHS` (``internal``);
    packages not installed are left out, and none is imported.

    Example:
        >>> any(p.endswith("/torch/") for p in exclusions(("torch",), {}, internal={}))  # doctest: +SKIP
        True
    """
    out = []
    for name, rels in (INTERNAL_PATHS if internal is None else internal).items():
        where = _package_dir(name)
        for rel in rels if where else ():
            out.append(os.path.join(where, rel) if rel else os.path.join(where, ""))
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


def locate_at_model(*, all_of_xlalens: bool = True, extra: Iterable[str] = ()) -> list[str]:
    """Tell jax to skip framework, library-plumbing and xlalens frames when it records
    locations (NOTE above). Call it in the frontend process before tracing.

    Args:
        all_of_xlalens: exclude the whole xlalens package (a user's target, or a
            frontend whose built-in model code re-includes its own files); False
            for a built-in jax workload, whose model code is xlalens's.
        extra: more path prefixes to exclude.

    Returns:
        The prefixes registered now (each is registered once per process).

    Example:
        >>> locate_at_model(all_of_xlalens=False)  # doctest: +SKIP
        ['/v/site-packages/torch/', ...]
    """
    from jax.extend import source_info_util

    packages = [p for p in FRAMEWORK_PACKAGES if all_of_xlalens or p != "xlalens"]
    added = []
    for path in exclusions(packages, extra=extra):
        if path not in _registered:
            source_info_util.register_exclusion(path)
            _registered.add(path)
            added.append(path)
    return added


_registered: set[str] = set()
