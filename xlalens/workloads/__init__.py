"""The built-in workloads: one source for every frontend (and for timing sweeps).

    regression   the seed's linear unit, MSE, SGD              (_dense.py)
    mlp          tanh layers, MSE, SGD                          (_dense.py)
    cnn          residual conv net with batch norm, SGD+momentum (_cnn.py)
    transformer  post-LN encoder blocks, AdamW                  (_transformer.py)

Each module holds the shapes, the fixed-seed numpy initial state, the data, the
optimizer's explicit conventions and (cnn, transformer) a jax reference of the
step; every frontend's builder follows it. docs/workloads.md has the conventions.
"""

from xlalens.workloads import _cnn as cnn
from xlalens.workloads import _transformer as transformer
from xlalens.workloads._optim import Optimizer
from xlalens.workloads._workload import WORKLOADS, Workload

__all__ = ["WORKLOADS", "Optimizer", "Workload", "cnn", "transformer"]
