"""Source lines at the model, TF's packed booleans, elided constants: no framework needed."""

import numpy as np

# A GPT-2 linear as torch_xla writes its stack (XLA_HLO_DEBUG): innermost the torch
# function, then transformers' Conv1D utility, then the model line, then xlalens.
STACK = (
    '#loc1 = loc("/v/site-packages/torch/nn/functional.py":2100:0)\n'
    '#loc2 = loc("/v/site-packages/transformers/pytorch_utils.py":119:0)\n'
    '#loc3 = loc("/v/site-packages/transformers/models/gpt2/modeling_gpt2.py":241:0)\n'
    '#loc4 = loc("/r/xlalens/frontends/fe_torch_xla.py":300:0)\n'
    "#loc5 = loc(callsite(#loc1 at callsite(#loc2 at callsite(#loc3 at #loc4))))\n"
    '#loc6 = loc("aten__addmm"(#loc5))\n'
    '#loc7 = loc("/v/lib/python3.11/site-packages/torch/optim/adam.py":400:0)\n'
    "#loc8 = loc(callsite(#loc7 at #loc4))\n"
    '#loc9 = loc("aten__add"(#loc8))\n'
)


def test_torch_xla_stack_keeps_the_model_frame():
    """The model's line is kept from a call-site stack; a stack without one keeps its innermost frame."""
    from xlalens.ir._locations import flatten_locations, model_frame

    flat = flatten_locations(STACK, keep=model_frame)
    assert (
        '#loc6 = loc("aten__addmm"("/v/site-packages/transformers/models/gpt2/modeling_gpt2.py"'
        ":241:0))" in flat
    )
    assert '#loc9 = loc("aten__add"("/v/lib/python3.11/site-packages/torch/optim/adam.py"' in flat
    # Without a chooser the innermost frame stays, as before.
    assert '"aten__addmm"("/v/site-packages/torch/nn/functional.py":2100:0)' in flatten_locations(
        STACK
    )


def test_model_frame_tells_model_code_from_framework_code():
    """User files and model libraries are model code; torch, library utilities, stdlib, xlalens are not."""
    from xlalens.ir._locations import model_frame

    assert model_frame("/home/me/zoo/train.py")
    assert model_frame("/v/site-packages/timm/models/resnet.py")
    assert not model_frame("/v/site-packages/transformers/pytorch_utils.py")
    assert not model_frame("/v/site-packages/torch/nn/modules/linear.py")
    assert not model_frame("/usr/lib/python3.11/contextlib.py")
    assert not model_frame("/r/xlalens/frontends/_torchlike.py")


def test_packed_booleans_unpack_to_one_byte_each_and_parse():
    """TF's bit-packed i1 constant becomes one byte per element, which jaxlib's parser accepts."""
    from xlalens.frontends._tflike import unpack_i1
    from xlalens.ir._stablehlo import _context, parse_module

    mask = np.tril(np.ones((4, 4), bool))  # a causal mask
    packed = np.packbits(mask.reshape(-1), bitorder="little").tobytes().hex().upper()
    text = (
        "func.func @main() -> tensor<4x4xi1> {\n"
        f'  %0 = stablehlo.constant dense<"0x{packed}"> : tensor<4x4xi1>\n'
        "  return %0 : tensor<4x4xi1>\n}\n"
    )
    fixed = unpack_i1(text)
    assert fixed != text and unpack_i1(fixed) == fixed
    ctx = _context()
    module = parse_module(fixed, ctx)
    with ctx:
        const = module.body.operations[0].regions[0].blocks[0].operations[0]
        assert np.array_equal(np.array(const.attributes["value"]), mask)


def test_large_hlo_constants_are_elided_in_the_graph():
    """A weight closed over as a constant keeps its size and checksum, not its text, in the graph."""
    from xlalens.ir import parse_hlo_text

    values = ", ".join(f"{v:.6f}" for v in np.linspace(0, 1, 2000))
    text = (
        "HloModule m\n\nENTRY main {\n"
        f"  c = f32[2000]{{0}} constant({{{values}}})\n"
        "  ROOT n = f32[2000]{0} negate(c)\n}\n"
    )
    graph = parse_hlo_text(text)
    attrs = next(d["attrs"] for _, d in graph.nodes(data=True) if d["opcode"] == "constant")
    assert attrs["elided"] and attrs["literal"] == "{...}"
    assert attrs["literal_chars"] > 4096 and isinstance(attrs["literal_crc32"], int)
