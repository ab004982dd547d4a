"""HloModuleProto bytes -> the xlalens graph, through jaxlib (no TensorFlow needed).

TensorFlow's ``experimental_get_compiler_ir(...)(stage="hlo_serialized")`` and
torch_xla's ``_get_xla_tensors_hlo_proto`` give serialized ``HloModuleProto`` bytes.
jaxlib can read them (``HloModule.from_serialized_hlo_module_proto``) and print the
module as HLO text, which :func:`parse_hlo_text` then reads.

NOTE: [why proto -> text, not a proto walk]
No HloModuleProto reader cheaper than the text path exists without TensorFlow:
jaxlib's ``HloModule`` binding exposes instructions only as name, opcode and
operands (no shapes, attributes or metadata), and decoding the proto ourselves
would need XLA's .proto files and the protobuf runtime pinned to one XLA version
(the very coupling the text reader avoids). So the bytes go through jaxlib's own
printer (one XLA version, the installed one) and then the text reader: slower
than reading text directly (the printing is extra), but exact and with nothing
dropped that the text carries.
"""

from __future__ import annotations

import networkx as nx

from xlalens._errors import ParseError
from xlalens.ir.hlo import parse_hlo_text

__all__ = ["hlo_proto_to_text", "parse_hlo_proto"]


def hlo_proto_to_text(data: bytes, *, source: str | None = None) -> str:
    """Print serialized ``HloModuleProto`` bytes as HLO text with jaxlib's printer.

    Args:
        data: the serialized proto.
        source: where the bytes came from, for error messages.

    Returns:
        The module as HLO text (the installed jaxlib's XLA printer).

    Raises:
        ParseError: the bytes are not an HloModuleProto jaxlib can read.

    Example:
        >>> text = hlo_proto_to_text(open("step.hlo.pb", "rb").read())  # doctest: +SKIP
    """
    from jax._src.lib import hlo

    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ParseError(f"HloModuleProto must be bytes, got {type(data).__name__}", source=source)
    try:
        module = hlo.HloModule.from_serialized_hlo_module_proto(bytes(data))
    except Exception as exc:  # jaxlib raises its own runtime error types
        raise ParseError(
            f"not a serialized HloModuleProto that jaxlib can read ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}); pass HLO text to "
            "parse_hlo_text instead",
            source=source,
        ) from exc
    return module.to_string()


def parse_hlo_proto(
    data: bytes, *, source: str | None = None, stage: str = "unknown"
) -> nx.MultiDiGraph:
    """Parse serialized ``HloModuleProto`` bytes into a raw-level xlalens graph.

    Args:
        data: the serialized proto (TensorFlow's ``hlo_serialized`` stage, torch_xla's
            ``_get_xla_tensors_hlo_proto``, or ``HloModule.as_serialized_hlo_module_proto``).
        source: where the bytes came from (a path), for errors and ``graph.graph["source"]``.
        stage: as for :func:`parse_hlo_text`.

    Returns:
        The same graph :func:`parse_hlo_text` gives for the module's text.

    Raises:
        ParseError: the bytes are not a readable HloModuleProto.

    Example:
        >>> g = parse_hlo_proto(open("step.hlo.pb", "rb").read(), stage="hlo")  # doctest: +SKIP
    """
    return parse_hlo_text(hlo_proto_to_text(data, source=source), source=source, stage=stage)
