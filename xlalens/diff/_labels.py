"""What a node is, for the diff: its label (op, type, layout, attributes, role).

Two paired nodes are ``unchanged`` when their :func:`node_label` is equal; the
attribute sets below say which attributes take no part in it, and why.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

# Attributes that describe where an op came from or how it was printed, not what
# it computes; they neither break an exact match nor count as a change.
IGNORED_ATTRS = frozenset(
    {
        "metadata",
        "frontend_attributes",
        "mhlo.frontend_attributes",
        "stack_frame_id",
        "control_predecessors",
        "control-predecessors",
        "loc",
        "result_layout",
        "statistics_viz",
        "result_attrs",
        # Names of called computations: the callee's structure takes part
        # through the fingerprint and the calls, its name (region_0.1) does not.
        "to_apply",
        "calls",
        "callee",
        "condition",
        "body",
        "branch_computations",
        "true_computation",
        "false_computation",
        # Measurements that `xlalens.timing.annotate` puts on nodes, not IR.
        "time_s",
        "time_share",
        "kernel_time_s",
    }
)

# NOTE: [hidden attributes]
# Attributes without semantic effect on what an op computes: they take no part
# in matching or in the unchanged/changed status, and the reports leave them out
# unless asked (`--all-attrs`, ``diff(..., all_attrs=True)``). Issue 11 found
# `parameter_replication: null -> [false]` reported on every parameter of a
# jax vs TensorFlow diff. Layouts are handled by :func:`layout_key`: a default
# (descending minor-to-major) layout and no layout are the same thing.
HIDDEN_ATTRS = frozenset(
    {
        # A hint that replicas hold the same data; the value computed is the same.
        "parameter_replication",
        "mhlo.is_same_data_across_replicas",
        # Result names and buffer donation: how arguments are passed, not what
        # is computed from them.
        "jax.result_info",
        "jax.buffer_donor",
        "tf.aliasing_output",
        # "default" vs absent layout mode.
        "mhlo.layout_mode",
    }
)


def layout_key(layout: str | None, rank: int) -> str | None:
    """``None`` for no layout or the default (descending) one, else the layout as printed.

    Args:
        layout: the node's ``layout`` field (``"1,0"``, ``"0,1:T(8,128)"``, ``None``).
        rank: the number of dimensions of the node's shape.

    Returns:
        ``None`` when the layout has no effect on the computation's memory order
        beyond the default, else ``layout`` unchanged.

    Example:
        >>> layout_key("1,0", 2) is None and layout_key("0,1", 2)
        '0,1'
    """
    if layout is None or layout == "":
        return None
    default = _DEFAULT_LAYOUTS.get(rank)
    if default is None:
        default = _DEFAULT_LAYOUTS[rank] = ",".join(str(i) for i in range(rank - 1, -1, -1))
    return None if layout == default else layout


_DEFAULT_LAYOUTS: dict[int, str] = {}


# NOTE: [shardings and collectives compare as records]
# The same device groups and tilings have several spellings (``{{0,1},{2,3}}``,
# ``[2,2]<=[4]``, ``mesh['x'=2,'y'=2] {'y'}``; ``sdy.sharding`` vs ``sharding=``),
# and XLA numbers ``channel_id`` per module. These attributes take no part in
# matching or in the changed status; the node's ``sharding`` and ``collective``
# records (docs/graph-schema.md) do, through :func:`spmd_key`, so a jax and a
# keras-jax all-reduce over the same groups pair as unchanged.
SPMD_ATTRS = frozenset(
    {
        "sharding",
        "sharding_parsed",
        "mhlo.sharding",
        "sdy.sharding",
        "replica_groups",
        "replica_groups_parsed",
        "source_target_pairs",
        "source_target_pairs_parsed",
        "channel_id",
    }
)


# One encoder for every key: ``json.dumps`` with options builds a new
# ``JSONEncoder`` per call, a third of its time on the ~10^5 nodes of a large
# module (same output: the options are the same).
_KEY_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def spmd_key(data: dict[str, Any]) -> str:
    """A node's sharding and collective records as one string ("" when it has neither)."""
    sh, co = data.get("sharding"), data.get("collective")
    if sh is None and co is None:
        return ""
    if sh is not None and sh.get("replicated") and sh["type"] != "tuple":
        sh = "replicated"  # {replicated} and an all-ones tiling are the same placement
    elif sh is not None:
        sh = {k: sh.get(k) for k in ("type", "tile_dims", "devices", "subgroups", "tuple")}
    if co is not None:
        co = {k: co.get(k) for k in ("kind", "groups", "axes")}
    return _KEY_JSON.encode([sh, co])


# One set lookup per attribute instead of three (attrs_key runs once per node).
_UNKEYED = IGNORED_ATTRS | HIDDEN_ATTRS | SPMD_ATTRS


def attrs_key(attrs: dict[str, Any]) -> str:
    """The attributes that take part in matching, as one deterministic string."""
    if not attrs:
        return ""
    kept = {k: v for k, v in attrs.items() if k not in _UNKEYED}
    if not kept:
        return ""
    return _KEY_JSON.encode(kept)


def node_label(data: dict[str, Any], memo: dict[str, str] | None = None) -> tuple:
    """What makes two paired nodes ``unchanged``: op, dtype, shape, layout, attributes,
    sharding and collective records (:func:`spmd_key`), role.

    A parameter's number is part of it (HLO prints it as the instruction's
    operand, ``parameter(1)``): passing arguments in another order is a change.
    ``memo``: a dict that one diff shares between its calls (NOTE: [attribute keys
    by repr]); the label is the same with or without it.
    """
    if memo is not None:
        return node_labels((data,), memo)[0]
    shape = tuple(data["shape"])
    return (
        data["op"],
        data["dtype"],
        shape,
        layout_key(data["layout"], len(shape)),
        attrs_key(data["attrs"]),
        spmd_key(data),
        data["role"],
        data["param_index"],
    )


# NOTE: [attribute keys by repr]
# Most nodes of a module carry one of a few dozen attribute sets (48 distinct keys
# among the 156k nodes of the LLM benchmark), and JSON-encoding each costs twice as
# much as printing it with ``repr``. Attributes are plain data (str, int, float,
# bool, None, list, tuple, dict; docs/graph-schema.md), whose ``repr`` is
# unambiguous: equal reprs mean equal values of equal types (``True`` and ``1``,
# ``1`` and ``1.0``, ``0.0`` and ``-0.0`` print differently), hence equal JSON. So
# ``memo`` maps the repr of the kept attributes to their :func:`attrs_key`; two
# sets that encode alike but print apart (a list against a tuple) only miss it.
def node_labels(datas: Iterable[dict[str, Any]], memo: dict[str, str] | None = None) -> list[tuple]:
    """:func:`node_label` of each node dict, in order, in one loop (see ``memo`` there)."""
    if memo is None:
        memo = {}
    encode, unkeyed = _KEY_JSON.encode, _UNKEYED
    out = []
    append = out.append
    for data in datas:
        shape = tuple(data["shape"])
        layout = data["layout"]
        attrs = data["attrs"]
        akey = ""
        # attrs_key, through the memo; one key left out of it (metadata, most often)
        # needs no filtered copy.
        if attrs and (len(attrs) > 1 or next(iter(attrs)) not in unkeyed):
            kept = {k: v for k, v in attrs.items() if k not in unkeyed}
            if kept:
                text = repr(kept)
                akey = memo.get(text)  # type: ignore[assignment]
                if akey is None:
                    akey = memo[text] = encode(kept)
        append(
            (
                data["op"],
                data["dtype"],
                shape,
                None if layout is None or layout == "" else layout_key(layout, len(shape)),
                akey,
                # spmd_key is "" when the node has neither record.
                ""
                if data.get("sharding") is None and data.get("collective") is None
                else spmd_key(data),
                data["role"],
                data["param_index"],
            )
        )
    return out
