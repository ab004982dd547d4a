"""Target names, meshes, spec files and the roofline estimate (no plugin, no framework)."""

import json
import re
import shutil
from pathlib import Path

import pytest

from xlalens import cli
from xlalens._errors import UsageError
from xlalens.targets import CHIPS, parse_target, parse_targets, report_section, spec_path
from xlalens.targets._summary import codegen_index, library_of, roofline

DUMPS = Path(__file__).parent / "data" / "dumps"


@pytest.mark.parametrize(
    ("name", "key", "devices", "topology"),
    [
        ("cpu", "cpu", 1, ""),
        ("cpux4", "cpux4", 4, ""),
        ("h100", "h100", 1, "1x1x1"),
        ("H100x8", "h100x8", 8, "1x1x8"),
        ("b200x2", "b200x2", 2, "1x1x2"),
        ("tpu-v5e", "tpu-v5e", 4, "v5e:2x2"),
        ("tpu-v5e:2x4", "tpu-v5e-2x4", 8, "v5e:2x4"),
        ("tpu-v5e-2x4", "tpu-v5e-2x4", 8, "v5e:2x4"),
        ("tpu-v5ex8", "tpu-v5e-2x4", 8, "v5e:2x4"),
        ("tpu-v4", "tpu-v4", 4, "v4:2x2x1"),
        ("tpu-v4:2x2x2", "tpu-v4-2x2x2", 8, "v4:2x2x2"),
        ("tpu-v5p", "tpu-v5p", 4, "v5p:2x2x1"),
        ("tpu-v6e", "tpu-v6e", 4, "v6e:2x2"),
    ],
)
def test_parse_target(name, key, devices, topology):
    """Each spelling gives the file-safe key, the device count and the topology string."""
    t = parse_target(name)
    assert (t.key, t.devices, t.topology) == (key, devices, topology)
    assert parse_target(t.key).key == key  # the key reads back as the same target


@pytest.mark.parametrize("bad", ["h900", "tpu-v9", "h100:2x2", "tpu-v5e:2x2x2", "h100x0", ""])
def test_bad_target_names(bad):
    """A bad name raises one UsageError line that lists the valid targets."""
    with pytest.raises(UsageError) as e:
        parse_targets(bad)
    msg = str(e.value)
    assert "\n" not in msg
    assert "h100" in msg or "2x2" in msg or "at least 1" in msg


def test_parse_targets_keeps_order_and_drops_repeats():
    """A comma list keeps its order; the same target twice is compiled once."""
    keys = [t.key for t in parse_targets("tpu-v5e,h100,tpu-v5e:2x2,cpu")]
    assert keys == ["tpu-v5e", "h100", "cpu"]


def test_cli_bad_target_exit_2(capsys):
    """`xlalens compile DIR --target bogus` prints one line naming the valid targets, exit 2."""
    rc = cli.main(["compile", str(DUMPS / "mlp"), "--target", "h100,bogus"])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1
    assert "'bogus'" in err
    for name in CHIPS:
        assert name in err


def test_gpu_spec_files_are_package_data_with_published_figures():
    """Each GPU chip has a spec file carrying its bandwidth and none of the fields jaxlib 0.10.2 rejects."""
    dropped = (
        "scalar_unit_description",
        "matrix_unit_description",
        "device_interconnect_info",
        "collective_memory_granularity",
        "cub_version",
        "pcie_bandwidth",
        "ecc_enabled",
        "mem_clock_ghz",
        "reserved_shared_memory_per_block",
        "max_blocks_per_multiprocessor",
    )
    for name, chip in CHIPS.items():
        if chip.kind != "gpu":
            continue
        text = spec_path(name).read_text()
        bw = int(re.search(r"memory_bandwidth: (\d+)", text).group(1))
        assert abs(bw - chip.bytes_per_s) / chip.bytes_per_s < 0.1, name
        body = "\n".join(ln for ln in text.splitlines() if not ln.startswith("#"))
        for field in dropped:
            assert field not in body, (name, field)
        assert not re.search(r"^\s*name:", body, re.M), name


def test_roofline_is_an_estimate_from_published_peaks():
    """The roofline picks the slower of compute and memory and says it is an estimate."""
    h100 = CHIPS["h100"]
    r = roofline(1e12, 1e6, h100, "f32")
    assert r["bound"] == "compute"
    assert r["seconds"] == pytest.approx(1e12 / h100.flops_per_s["f32"])
    assert "not a measurement" in r["note"]
    r = roofline(10.0, 1e9, h100, "bf16")
    assert r["bound"] == "memory"
    assert r["seconds"] == pytest.approx(1e9 / h100.bytes_per_s)
    assert roofline(1.0, 1.0, CHIPS["cpu"], "f32")["seconds"] is None


def test_library_of():
    """cuBLAS, cuDNN and Triton are recognized from custom-call targets and fusion kinds."""
    assert library_of("custom-call", {"custom_call_target": "__cublas$gemm"}) == "cuBLAS"
    assert library_of("custom-call", {"custom_call_target": "__cudnn$convForward"}) == "cuDNN"
    bc = {"fusion_backend_config": {"kind": "__triton_gemm"}}
    assert library_of("fusion", {"kind": "kCustom", "backend_config": bc}) == "Triton"
    assert library_of("fusion", {"kind": "kLoop"}) is None


def test_codegen_index_reads_ptx_and_llvm(tmp_path):
    """Kernel symbols are found at their .entry / define lines and in per-kernel CPU files."""
    d = tmp_path / "xla_dump"
    d.mkdir()
    (d / "module_0001.jit_f.1.ptx").write_text(
        "//\n.version 8.4\n.visible .entry loop_add_fusion_1(\n  .param .u64 p0\n)\n"
    )
    (d / "module_0001.jit_f.1.ir-with-opt.ll").write_text(
        "; ModuleID\ndefine ptx_kernel void @loop_add_fusion_1(ptr %0) {\n  ret void\n}\n"
    )
    (d / "module_0000.jit_f.add_tanh_fusion.2_kernel_module.ir-with-opt.ll").write_text("x")
    # TensorFlow's module names hold dots
    (d / "module_0002.a_inference_step_94__.5.dot.10_elemental_kernel_module.o").write_bytes(b"")
    (
        d / "module_0002.a_inference_step_94__.5.__compute_module_bitcast_fusion.1.ir-with-opt.ll"
    ).write_text("")
    (d / "module_0000.jit_f.obj-file.add_tanh_fusion.2_kernel_module.o").write_bytes(b"\x7fELF")
    idx = codegen_index(d, tmp_path)
    kinds = {(c["kind"], c["line"]) for c in idx["loop_add_fusion_1"]}
    assert kinds == {("ptx", 3), ("llvm-ir", 2)}
    assert {c["kind"] for c in idx["add_tanh_fusion_2"]} == {"llvm-ir", "object"}
    assert [c["kind"] for c in idx["dot_10"]] == ["object"]
    assert [c["kind"] for c in idx["bitcast_fusion_1"]] == ["llvm-ir"]


def test_report_section_none_without_targets(tmp_path):
    """A dump never compiled for a target has no targets section."""
    shutil.copytree(DUMPS / "regression", tmp_path / "d")
    assert report_section(tmp_path / "d") is None
    (tmp_path / "d" / "targets").mkdir()
    (tmp_path / "d" / "targets" / "h100.json").write_text(
        json.dumps(
            {"target": "h100", "status": "skipped", "reason": "jax-cuda12-plugin is not installed"}
        )
    )
    title, body = report_section(tmp_path / "d")
    assert title.startswith("Targets")
    assert "skipped: jax-cuda12-plugin is not installed" in body
