"""User steps for the capture tests: real JAX functions, plus ones that fail on purpose."""

import os
import time


def make_step():
    """A small user step: one Newton iteration for sqrt(2)."""
    import jax.numpy as jnp

    def step(x):
        return x - (x * x - 2.0) / (2.0 * x)

    return step, (jnp.asarray([1.0, 1.5], jnp.float32),)


def raises():
    """A step factory that raises, as a buggy user model would."""
    raise RuntimeError("deliberate failure in the user's model code")


def crashes():
    """A step factory that kills its own process, as a segfaulting framework would."""
    os.abort()


def hangs():
    """A step factory that never returns."""
    time.sleep(3600)
