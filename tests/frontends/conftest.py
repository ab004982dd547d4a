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


# Small sizes of the model workloads: every layer kind, a few seconds of compile each.
CNN = Workload(name="cnn", depth=1, width=8, features=3, size=4, image=4)
TRANSFORMER = Workload(name="transformer", depth=1, width=8, heads=2, seq=4, features=3, size=4)


@pytest.fixture(scope="session")
def cnn_dump(tmp_path_factory):
    """A dump of a one-block cnn step (conv, batch norm, pool, SGD momentum) in every frontend."""
    return write_dump(tmp_path_factory.mktemp("cnn") / "dump", workload=CNN, stages=False)


@pytest.fixture(scope="session")
def transformer_dump(tmp_path_factory):
    """A dump of a one-block transformer step (attention, layer norm, GELU, AdamW) everywhere."""
    return write_dump(
        tmp_path_factory.mktemp("transformer") / "dump", workload=TRANSFORMER, stages=False
    )
