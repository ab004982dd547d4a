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


def make_tf_step():
    """A TensorFlow user step with a variable it updates."""
    import tensorflow as tf

    v = tf.Variable([1.0, 2.0], name="acc")

    def step(x):
        v.assign_add(x * 2.0)
        return tf.reduce_sum(v * x)

    return step, (tf.constant([0.5, 0.25]),)


def make_keras_model():
    """A user's compiled Keras model and one batch."""
    import keras
    import numpy as np

    model = keras.Sequential(
        [keras.Input(shape=(3,)), keras.layers.Dense(2, activation="relu"), keras.layers.Dense(1)]
    )
    model.compile(optimizer="adam", loss="mse")
    x = np.linspace(0, 1, 24, dtype=np.float32).reshape(8, 3)
    return model, (x, x.sum(axis=1, keepdims=True))


def make_torch_xla_step(device):
    """A torch_xla user step: one matmul + relu on the XLA device."""
    import torch

    w = torch.ones(3, 2).to(device)
    x = torch.arange(6, dtype=torch.float32).reshape(2, 3).to(device)

    def step(w, x):
        return torch.relu(x @ w - 3.0), (x * 2).sum()

    return step, (w, x)


def make_torchax_step():
    """A torch function run through torchax."""
    import torch

    def step(a, b):
        return torch.nn.functional.gelu(a @ b).mean()

    return step, (torch.ones(4, 3), torch.full((3, 2), 0.5))


def make_torch_model_step(device):
    """One torch user step for torch_xla and torchax: a small nn.Module's MSE loss and output."""
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1)).to(
        device
    )
    x = torch.linspace(0, 1, 24).reshape(8, 3).to(device)

    def step(x):
        out = model(x)
        return out.pow(2).mean(), out

    return step, (x,), dict(model.named_parameters())


def make_optax_adam_step():
    """A user's optax.adam step: params and optimizer state as pytrees of named leaves."""
    import jax
    import jax.numpy as jnp
    import optax

    params = {"w1": jnp.full((3, 4), 0.1), "b1": jnp.zeros(4), "w2": jnp.full((4, 1), -0.2)}
    optimizer = optax.adam(1e-2)
    x = jnp.linspace(0.0, 1.0, 24).reshape(8, 3)
    y = jnp.sum(x, axis=1, keepdims=True)

    def loss_fn(params, x, y):
        h = jnp.tanh(x @ params["w1"] + params["b1"])
        return jnp.mean((h @ params["w2"] - y) ** 2)

    def step(params, opt_state, x, y):
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    return step, (params, optimizer.init(params), x, y)


def make_torch_branchy_step(device):
    """A torch step whose Python branch depends on a tensor's value: dynamo must break there."""
    import torch

    x = torch.arange(6, dtype=torch.float32).to(device)

    def step(x):
        if x.sum() > 0:  # data-dependent control flow
            return x * 2
        return x - 1

    return step, (x,)
