"""The common runtime: jaxlib's PJRT client compiles and runs captured StableHLO.

Every framework's capture goes through the same XLA here, which is what makes
``outputs_match`` (and, in ``xlalens.timing``, the per-kernel times) comparable
across frameworks. Only jax/jaxlib and numpy are imported.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from xlalens._errors import UsageError, XlalensError

BACKENDS = ("cpu", "gpu", "tpu")


class CompileError(XlalensError):
    """XLA rejected a module; the message carries XLA's own text."""


@dataclass(frozen=True, slots=True)
class Compiled:
    """A module compiled and loaded on one device of a backend."""

    executable: Any
    """The jaxlib ``LoadedExecutable``."""
    backend: str
    """Backend name it was compiled for (``cpu``, ``gpu``, ``tpu``)."""
    device: Any
    """The jaxlib device it runs on."""
    compile_seconds: float
    """Wall seconds spent in ``compile_and_load``."""

    def optimized_hlo(self) -> str:
        """The HLO text after XLA's optimization passes for this backend."""
        return "\n\n".join(m.to_string() for m in self.executable.hlo_modules())

    def cost_analysis(self) -> dict[str, float]:
        """XLA's cost analysis (``flops``, ``bytes accessed``, ...) as plain floats."""
        cost = self.executable.cost_analysis()
        if isinstance(cost, list):  # older jaxlib returned one dict per module
            cost = cost[0] if cost else {}
        return {str(k): float(v) for k, v in dict(cost or {}).items()}

    def memory_stats(self) -> dict[str, int]:
        """Compiled memory stats (argument, output, temp, generated code bytes)."""
        stats = self.executable.get_compiled_memory_stats()
        return {
            name: int(getattr(stats, name))
            for name in dir(stats)
            if name.endswith("_in_bytes") and not name.startswith("_")
        }


def available_backends() -> list[str]:
    """The PJRT backends that jax can open on this machine (``cpu`` always)."""
    import jax

    found = []
    for name in BACKENDS:
        try:
            if jax.devices(name):
                found.append(name)
        except RuntimeError:
            continue
    return found


def get_backend(name: str) -> Any:
    """The jaxlib client for backend ``name``.

    Raises:
        UsageError: ``name`` is not a backend present here; the message lists those that are.
    """
    if name not in BACKENDS:
        raise UsageError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    import jax.extend.backend  # `import jax` alone does not load jax.extend

    try:
        return jax.extend.backend.get_backend(name)
    except RuntimeError as exc:
        present = ", ".join(available_backends())
        raise UsageError(
            f"backend {name!r} is not present on this machine (present: {present}); "
            "install the matching jax plugin (e.g. `pip install jax[cuda12]`) or pick another backend"
        ) from exc


def compile_stablehlo(module: str | bytes, backend: str = "cpu") -> Compiled:
    """Compile StableHLO (MLIR text or bytecode) for one device of ``backend``.

    Args:
        module: the StableHLO module, as captured (``stablehlo.mlir``).
        backend: ``cpu``, ``gpu`` or ``tpu``.

    Returns:
        The :class:`Compiled` executable.

    Raises:
        UsageError: the backend is not present.
        CompileError: XLA rejected the module (its message is kept).

    Example:
        >>> c = compile_stablehlo(open("xlalens-dump/jax/stablehlo.mlir").read())  # doctest: +SKIP
    """
    from jax._src.lib import xla_client

    client = get_backend(backend)
    device = client.local_devices()[0]
    start = time.perf_counter()
    try:
        exe = client.compile_and_load(module, [device], xla_client.CompileOptions())
    except Exception as exc:  # jaxlib raises XlaRuntimeError / ValueError with XLA's text
        raise CompileError(f"XLA could not compile the module for {backend}: {exc}") from exc
    return Compiled(exe, backend, device, time.perf_counter() - start)


def put(compiled: Compiled, arrays: list[np.ndarray]) -> list[Any]:
    """Place host arrays on the compiled executable's device (once, before timing)."""
    import jax

    # Captures may take 64-bit inputs (Keras-on-TF's iteration counter is s64);
    # with jax's default x64=False, device_put would silently narrow them and
    # the executable would reject the buffer.
    with jax.enable_x64(True):
        return [jax.device_put(np.asarray(a), compiled.device) for a in arrays]


def execute(compiled: Compiled, args: list[Any]) -> list[Any]:
    """Run once on device-resident ``args``; returns device arrays (not yet awaited)."""
    results = compiled.executable.execute_sharded(args)
    return [shards[0] for shards in results.disassemble_into_single_device_arrays()]


def run(compiled: Compiled, arrays: list[np.ndarray]) -> list[np.ndarray]:
    """Run once on host arrays and bring every result back to the host."""
    return [np.asarray(out) for out in execute(compiled, put(compiled, arrays))]


def elide_copies(module: Any) -> int:
    """Replace every ``mhlo.copy`` of a parsed MLIR module by its operand; returns how many.

    TensorFlow's StableHLO returns updated variables through ``mhlo.copy``, which
    jax's exporter and XLA:TPU's legalizer reject ("failed to legalize operation
    'mhlo.copy'"). A copy is the identity on values (it only asks for a fresh
    buffer), so dropping it keeps the computation; XLA re-inserts the copies it
    needs when it assigns buffers.

    Args:
        module: a ``jax._src.lib.mlir.ir.Module``, changed in place (inside its context).

    Returns:
        The number of copies removed.

    Example:
        >>> elide_copies(ir.Module.parse(text))  # doctest: +SKIP
        3
    """
    from jax._src.lib.mlir import ir

    copies: list[Any] = []

    def visit(op: Any) -> Any:
        if op.operation.name == "mhlo.copy":
            copies.append(op.operation)
        return ir.WalkResult.ADVANCE

    module.operation.walk(visit)
    for op in copies:
        op.results[0].replace_all_uses_with(op.operands[0])
        op.erase()
    return len(copies)
