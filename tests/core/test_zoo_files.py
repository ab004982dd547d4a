"""The zoo's factory files (examples/zoo/) and how a --target is checked and stored, without frameworks."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from xlalens.capture._dump import absolute_target
from xlalens.cli import main

ZOO = Path(__file__).resolve().parents[2] / "examples" / "zoo"


def _module_values(path: Path) -> dict[str, object]:
    tree = ast.parse(path.read_text())
    out: dict[str, object] = {"__doc__": ast.get_docstring(tree)}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    out["defs"] = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    return out


@pytest.mark.parametrize("path", sorted(ZOO.glob("*.py")), ids=lambda p: p.name)
def test_zoo_file_declares_its_frontends_and_factory(path: Path) -> None:
    """Each zoo file has a docstring, FRONTENDS, and a FACTORY it defines (what bench_zoo reads)."""
    v = _module_values(path)
    assert v["__doc__"], path
    assert isinstance(v.get("FRONTENDS"), tuple) and v["FRONTENDS"], path
    assert isinstance(v.get("FACTORY"), str) and v["FACTORY"] in v["defs"], path


def test_jax_zoo_has_the_four_programs() -> None:
    """The JAX side of the zoo: scanned LLM, flax nnx, flax linen and equinox."""
    jax_files = {p.stem for p in ZOO.glob("*.py") if _module_values(p)["FRONTENDS"] == ("jax",)}
    assert {"jax_scan_llm", "flax_nnx_cnn", "flax_linen_encoder", "equinox_mlp"} <= jax_files


def test_missing_library_is_one_line_naming_package_and_extra(tmp_path, capsys) -> None:
    """A target whose REQUIRES names an absent library: exit 2, one line, no dump written."""
    step = tmp_path / "needs_lib.py"
    step.write_text(
        '"""A step that needs a library."""\n'
        'REQUIRES = ("jax", "no_such_zoo_lib_xyz")\n'
        "def make_step():\n    import no_such_zoo_lib_xyz\n"
    )
    out = tmp_path / "d"
    rc = main(["dump", "--frameworks", "jax", "--target", f"{step}:make_step", "-o", str(out)])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1, err
    assert "no_such_zoo_lib_xyz" in err and "xlalens[zoo]" in err
    assert not out.exists()


def test_target_file_is_stored_absolute(tmp_path, monkeypatch) -> None:
    """A relative file.py:function becomes absolute; a module:function stays as given."""
    (tmp_path / "steps.py").write_text("def make_step():\n    pass\n")
    monkeypatch.chdir(tmp_path)
    assert absolute_target("steps.py:make_step") == f"{tmp_path / 'steps.py'}:make_step"
    assert absolute_target("my_pkg.steps:make_step") == "my_pkg.steps:make_step"


def test_user_code_is_told_from_xlalens_code() -> None:
    """A target defined outside xlalens is the user's code; a built-in workload's is not."""
    from xlalens.frontends._jaxlike import _is_user_code
    from xlalens.workloads import Workload

    def step(x):
        return x

    assert _is_user_code(step)
    assert not _is_user_code(Workload.from_json)
