"""`xlalens time --size ... --capture-missing`: a per-frontend sweep captured on demand."""

import json

from xlalens.capture import write_dump
from xlalens.cli import main


def test_sweep_captures_missing_sizes_per_frontend(tmp_path, capsys):
    """Sizes the dump lacks are captured into DIR/sweep/<N> and timed for every ok frontend."""
    dump = write_dump(tmp_path / "d", frameworks=["jax", "torch_xla"], stages=False).path
    rc = main(
        [
            "time",
            str(dump),
            "--size",
            "4,64",
            "--capture-missing",
            "--no-profile",
            "--min-time",
            "0.05",
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0, out
    sweep_manifest = json.loads((dump / "sweep/64/manifest.json").read_text())
    assert sweep_manifest["workload"]["size"] == 64
    assert {n: e["status"] for n, e in sweep_manifest["frontends"].items()} == {
        "jax": "ok",
        "torch_xla": "ok",
    }
    doc = json.loads((dump / "timing/cpu.json").read_text())
    points = {(p["frontend"], p["size"]) for p in doc["sweep"]["points"] if p["median_s"]}
    assert {("jax", 4), ("jax", 64), ("torch_xla", 4), ("torch_xla", 64)} <= points
    assert (dump / doc["sweep"]["svg"]).is_file()


def test_capture_missing_needs_sizes(tmp_path, capsys):
    """--capture-missing without --size is one clear line, exit 2."""
    dump = write_dump(tmp_path / "d", frameworks=["jax"], stages=False).path
    assert main(["time", str(dump), "--capture-missing"]) == 2
    assert "--capture-missing goes with --size" in capsys.readouterr().err
