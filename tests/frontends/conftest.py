"""Shared fixtures: one real dump of every frontend per workload, made once per session."""

from pathlib import Path

import pytest

from xlalens.capture import write_dump
from xlalens.workloads import Workload

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def regression_dump(tmp_path_factory):
    """A dump of the seed's regression step in every frontend."""
    return write_dump(tmp_path_factory.mktemp("reg") / "dump", workload=Workload(), stages=False)


@pytest.fixture(scope="session")
def mlp_dump(tmp_path_factory):
    """A dump of a 3-hidden-layer MLP step in every frontend."""
    return write_dump(
        tmp_path_factory.mktemp("mlp") / "dump",
        workload=Workload(name="mlp", depth=3, width=8, size=16, features=3),
        stages=False,
    )
