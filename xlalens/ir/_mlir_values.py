"""MLIR types and attributes as plain data, for the StableHLO reader (``_stablehlo``).

``type_info`` reads an MLIR type as (dtype, shape, type text) in HLO spelling
(``f32``, ``bf16``, ``pred``, ``tuple``); ``attr_to_plain`` turns any MLIR
attribute into str/int/float/bool/None/list/dict, through one table of the
StableHLO attribute classes jaxlib ships; ``_op_attrs`` does it for every
attribute of an op. Dense literals above ``LITERAL_LIMIT`` elements are elided.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from jaxlib.mlir import ir

# Dense literals above this many elements are not copied into attrs (they can be
# megabytes); the node keeps their type and ``"{...}"``, as HLO text elides them.
LITERAL_LIMIT = 1024

# MLIR element type -> HLO primitive type spelling.
_INT_RE = re.compile(r"^(u?)i(\d+)$")
_FLOAT_NAMES = {"f16", "f32", "f64", "bf16", "tf32"}
_COMPLEX = {"complex<f32>": "c64", "complex<f64>": "c128"}


# --------------------------------------------------------------------------- types


def _elem_dtype(t: Any) -> str:
    s = str(t)
    if s in _FLOAT_NAMES:
        return s
    m = _INT_RE.match(s)
    if m:
        if m[2] == "1" and not m[1]:
            return "pred"
        return ("u" if m[1] else "s") + m[2]
    if s in _COMPLEX:
        return _COMPLEX[s]
    if s.startswith("f") and s[1:2].isdigit():  # f8E4M3FN -> f8e4m3fn, as HLO spells it
        return s.lower()
    if s == "index":
        return "s64"
    return s


def type_info(t: Any, cache: dict[Any, Any] | None = None) -> tuple[str, tuple[int, ...], str]:
    """(dtype, shape, HLO-style type string) of an MLIR type; see :func:`_type_info`.

    ``cache`` (one per parse: MLIR types are uniqued per context, so equal types
    hash alike) saves recomputing the same tensor types thousands of times.
    """
    if cache is None:
        return _type_info(t)
    info = cache.get(t)
    if info is None:
        info = cache[t] = _type_info(t)
    return info


def _tuple_types(t: Any) -> list[Any]:
    if not isinstance(t, ir.TupleType):
        return []
    return [t.get_type(i) for i in range(t.num_types)]


def _type_info(t: Any) -> tuple[str, tuple[int, ...], str]:
    """(dtype, shape, HLO-style type string) of an MLIR type.

    Example:
        ``tensor<4x?xf32>`` -> ``("f32", (4, -1), "f32[4,?]")``; a token is
        ``("token", (), "token[]")``; a tuple is ``("tuple", (), "(f32[], s32[2])")``.
    """
    s = str(t)
    if s.startswith("!") and s.endswith(".token"):
        return "token", (), "token[]"
    if s.startswith("tuple<"):
        parts = [type_info(e)[2] for e in _tuple_types(t)]
        return "tuple", (), "(" + ", ".join(parts) + ")"
    if isinstance(t, ir.RankedTensorType):
        rt = t
        dtype = _elem_dtype(rt.element_type)
        dims: list[int] = []
        spelled: list[str] = []
        bounds: list[int] | None = None
        if rt.encoding is not None and "bounds" in str(rt.encoding):
            nums = re.findall(r"-?\d+|\?", str(rt.encoding).split("<", 1)[-1])
            bounds = [int(n) if n != "?" else -1 for n in nums]
        for i in range(rt.rank):
            if rt.is_dynamic_dim(i):
                dims.append(-1)
                b = bounds[i] if bounds and i < len(bounds) else -1
                spelled.append(f"<={b}" if b >= 0 else "?")
            else:
                d = rt.get_dim_size(i)
                dims.append(d)
                spelled.append(str(d))
        return dtype, tuple(dims), f"{dtype}[{','.join(spelled)}]"
    if isinstance(t, ir.UnrankedTensorType):
        dtype = _elem_dtype(t.element_type)
        return dtype, (), f"{dtype}[*]"
    if isinstance(t, ir.ShapedType):  # memref, vector: rare in StableHLO
        st = t
        dtype = _elem_dtype(st.element_type)
        dims = tuple(-1 if st.is_dynamic_dim(i) else st.get_dim_size(i) for i in range(st.rank))
        return dtype, dims, f"{dtype}[{','.join('?' if d < 0 else str(d) for d in dims)}]"
    # a scalar type used directly (func signatures of non-tensor code), or an
    # unknown dialect type: keep its spelling.
    dtype = _elem_dtype(t)
    return dtype, (), f"{dtype}[]" if dtype != s or not s.startswith("!") else s


# --------------------------------------------------------------------------- attributes


def _stablehlo_attr_table() -> list[tuple[Any, Callable[[Any], Any]]]:
    from jaxlib.mlir.dialects import stablehlo as sh

    def props(cls: Any, names: list[str]) -> tuple[Any, Callable[[Any], Any]]:
        def conv(a: Any) -> Any:
            obj = cls(a)
            return {n: _plain_value(getattr(obj, n)) for n in names}

        return cls, conv

    def value(cls: Any) -> tuple[Any, Callable[[Any], Any]]:
        return cls, lambda a: str(cls(a).value)

    return [
        value(sh.ComparisonDirectionAttr),
        value(sh.ComparisonTypeAttr),
        value(sh.PrecisionAttr),
        value(sh.FftTypeAttr),
        value(sh.RngAlgorithmAttr),
        value(sh.RngDistributionAttr),
        value(sh.TransposeAttr),
        value(sh.ResultAccuracyModeAttr),
        props(
            sh.DotDimensionNumbers,
            [
                "lhs_batching_dimensions",
                "rhs_batching_dimensions",
                "lhs_contracting_dimensions",
                "rhs_contracting_dimensions",
            ],
        ),
        props(
            sh.GatherDimensionNumbers,
            [
                "offset_dims",
                "collapsed_slice_dims",
                "operand_batching_dims",
                "start_indices_batching_dims",
                "start_index_map",
                "index_vector_dim",
            ],
        ),
        props(
            sh.ScatterDimensionNumbers,
            [
                "update_window_dims",
                "inserted_window_dims",
                "input_batching_dims",
                "scatter_indices_batching_dims",
                "scattered_dims_to_operand_dims",
                "index_vector_dim",
            ],
        ),
        props(
            sh.ConvDimensionNumbers,
            [
                "input_batch_dimension",
                "input_feature_dimension",
                "input_spatial_dimensions",
                "kernel_input_feature_dimension",
                "kernel_output_feature_dimension",
                "kernel_spatial_dimensions",
                "output_batch_dimension",
                "output_feature_dimension",
                "output_spatial_dimensions",
            ],
        ),
        props(sh.ChannelHandle, ["handle", "channel_type"]),
        props(
            sh.OutputOperandAlias,
            ["output_tuple_indices", "operand_index", "operand_tuple_indices"],
        ),
        props(sh.ResultAccuracyAttr, ["atol", "rtol", "ulps", "mode"]),
        props(
            sh.DotAlgorithm,
            [
                "lhs_precision_type",
                "rhs_precision_type",
                "accumulation_type",
                "lhs_component_count",
                "rhs_component_count",
                "num_primitive_operations",
                "allow_imprecise_accumulation",
            ],
        ),
    ]


_ATTR_TABLE: list[tuple[Any, Callable[[Any], Any]]] | None = None


def _plain_value(v: Any) -> Any:
    """Python values returned by binding properties -> plain data."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, (list, tuple)):
        return [_plain_value(x) for x in v]
    if isinstance(v, ir.Attribute):
        return attr_to_plain(v)
    if isinstance(v, ir.Type):
        return str(v)
    return str(v)


def _dense_to_plain(a: Any) -> Any:
    """A dense elements attribute -> scalar, nested list, or ``"{...}"`` when large."""
    import numpy as np

    shaped = ir.ShapedType(a.type)
    n = 1
    for i in range(shaped.rank):
        n *= shaped.get_dim_size(i)
    if a.is_splat:
        v = attr_to_plain(a.get_splat_value())
        if shaped.rank == 0:
            return v
        if n > LITERAL_LIMIT:
            return {"splat": v}
        return np.full(tuple(shaped.get_dim_size(i) for i in range(shaped.rank)), v).tolist()
    if n > LITERAL_LIMIT:
        return "{...}"
    try:
        return np.array(a).tolist()
    except (TypeError, ValueError, RuntimeError):
        pass
    # bf16/f16/complex have no buffer format in the bindings: read the printed form.
    body = str(a)
    m = re.match(r"dense<(.*)>\s*:", body, re.S)
    if m:
        inner = m[1].replace("(", "[").replace(")", "]")
        try:
            return json.loads(inner)
        except ValueError:
            return m[1]
    return body


def attr_to_plain(a: Any) -> Any:
    """An MLIR attribute -> plain data (str, int, float, bool, None, list, dict).

    Known StableHLO attributes become their fields (a dict for dimension numbers,
    the enum's name for comparison directions, precisions...); anything else is
    kept as its printed form, so nothing is lost.
    """
    global _ATTR_TABLE
    if isinstance(a, ir.BoolAttr):
        return bool(a.value)
    if isinstance(a, ir.IntegerAttr):
        return int(a.value)
    if isinstance(a, ir.FloatAttr):
        return float(a.value)
    if isinstance(a, ir.StringAttr):
        try:
            return a.value
        except (UnicodeDecodeError, ValueError):
            return str(a)
    if isinstance(a, ir.FlatSymbolRefAttr):
        return a.value
    if isinstance(a, ir.UnitAttr):
        return True
    if isinstance(a, ir.TypeAttr):
        return str(a.value)
    if isinstance(a, ir.ArrayAttr):
        return [attr_to_plain(x) for x in a]
    if isinstance(a, ir.DictAttr):
        return {str(x.name): attr_to_plain(x.attr) for x in a}
    if isinstance(
        a, (ir.DenseI64ArrayAttr, ir.DenseI32ArrayAttr, ir.DenseI16ArrayAttr, ir.DenseI8ArrayAttr)
    ):
        return [int(x) for x in a]
    if isinstance(a, ir.DenseBoolArrayAttr):
        return [bool(x) for x in a]
    if isinstance(a, (ir.DenseF32ArrayAttr, ir.DenseF64ArrayAttr)):
        return [float(x) for x in a]
    if isinstance(a, ir.DenseElementsAttr):
        return _dense_to_plain(a)
    if _ATTR_TABLE is None:
        _ATTR_TABLE = _stablehlo_attr_table()
    for cls, conv in _ATTR_TABLE:
        if cls.isinstance(a):
            try:
                return conv(a)
            except Exception:  # a binding that cannot read its own attr: keep the text
                break
    return str(a)


def _op_attrs(op: Any) -> dict[str, Any]:
    """All attributes of an op as plain data, by name."""
    out: dict[str, Any] = {}
    attrs = op.attributes
    # NOTE: [reading attributes by name] ``attrs[i].attr`` aborts the whole
    # process (a C++ terminate, jaxlib 0.10) on attributes the bindings cannot
    # downcast, such as complex dense literals; ``attrs[name]`` raises a
    # TypeError instead, which is caught here.
    for name in list(attrs):
        try:
            attr = attrs[name]
        except (TypeError, ValueError, RuntimeError):
            out[name] = _unreadable_attr(op, name)
            continue
        try:
            out[name] = attr_to_plain(attr)
        except Exception:  # a binding that cannot read its own attribute: keep the text
            out[name] = str(attr)
    return out


def _unreadable_attr(op: Any, name: str) -> Any:
    """An attribute the bindings cannot hand out, read back from the printed op."""
    text = op.get_asm(large_elements_limit=LITERAL_LIMIT)
    m = re.search(r"dense<(.*?)>\s*:", text, re.S)
    if m:
        inner = m[1].replace("(", "[").replace(")", "]")
        try:
            return json.loads(inner)
        except ValueError:
            return m[1]
    return text.strip()[:500]
