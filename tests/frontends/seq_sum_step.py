"""A TensorFlow user step for tests/frontends/test_proof.py: one dot that stagnates.

``x . ones`` with ``x = [1, 2^-25, 2^-25, ...]`` (2^16 terms). TensorFlow's own
XLA emits the vector dot as one running sum (NOTE: [sequential accumulation] in
xlalens/proof/_bound.py): after the leading 1, each 2^-25 is below half an ulp
of the partial sum and is rounded away, so the native result is exactly 1.0,
2^-9 relative below the exact 1 + 65535 * 2^-25. The same error shape as the
regression's gradient at 2^24 samples, at a size CI affords.
"""

import numpy as np


def make_step():
    """``(fn, args)``: fn is compiled with tf.function(jit_compile=True)."""
    import tensorflow as tf

    k = 2**16
    x = np.full(k, 2.0**-25, np.float32)
    x[0] = 1.0
    ones = np.ones(k, np.float32)

    def fn(a, b):
        return tf.tensordot(a, b, 1)

    return fn, (x, ones)
