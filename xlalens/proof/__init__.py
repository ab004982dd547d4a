"""xlalens.proof: the proof of capture, on the ground floor (docs/capture.md).

    reference       the captured StableHLO promoted to float64, run through PJRT
    error_bound     an error bound derived from the module, op by op
    chain_charges   long sequential dots charged by their simulated chains
    update_scales   the scale an updated parameter's error arrives at where it is read
    sensitivity     which results are rounding noise (judged on the step's floor)
    judge / agree   is a result within its bound of the reference; do two agree
    prove           the whole proof of one capture (replay and native result)

Capture proves each frontend's step, timing checks its results and the sharded
frontends prove their steps with it, so it sits below all of them
(docs/architecture.md): it imports only ``xlalens.ir`` and ``xlalens._runtime``.
"""

from xlalens.proof._accumulate import Accumulation, accumulations
from xlalens.proof._bound import error_bound
from xlalens.proof._chains import MIN_LENGTH as MIN_CHAIN_LENGTH
from xlalens.proof._chains import chain_charges
from xlalens.proof._conditioning import sensitivity
from xlalens.proof._judge import (
    agree,
    judge,
    magnitude_floor,
    promote_to_f64,
    prove,
    reference,
)
from xlalens.proof._model import (
    LAMBDA,
    OBSERVED_FACTOR,
    UNIT_ROUNDOFF,
    ErrorBound,
    Judgement,
    ReferenceUnavailable,
    allowance,
    recorded_allowances,
)
from xlalens.proof._updates import update_scales

__all__ = [
    "LAMBDA",
    "MIN_CHAIN_LENGTH",
    "OBSERVED_FACTOR",
    "UNIT_ROUNDOFF",
    "Accumulation",
    "ErrorBound",
    "Judgement",
    "ReferenceUnavailable",
    "accumulations",
    "agree",
    "allowance",
    "chain_charges",
    "error_bound",
    "judge",
    "magnitude_floor",
    "promote_to_f64",
    "prove",
    "recorded_allowances",
    "reference",
    "sensitivity",
    "update_scales",
]
