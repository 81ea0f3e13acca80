"""The introductory article's training script written with funcnn (for W5).

Same model, data shapes, loss, optimizer, 100 epochs and per-epoch print as
``seed_torch.py``. ``--cache-dir DIR`` turns on JAX's persistent compilation cache in
``DIR`` first (`funcnn._cache.enable_compilation_cache`), so a second run loads the
compiled step instead of compiling it.
"""

import argparse

import jax
import optax

import funcnn
from funcnn import nn
from funcnn._cache import enable_compilation_cache

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--cache-dir", help="persistent compilation cache directory (default: no cache)")
args = parser.parse_args()
if args.cache_dir:
    enable_compilation_cache(args.cache_dir)


def FeedforwardNN(input_size, hidden_size, output_size):
    return nn.Sequential(
        hidden=nn.Linear(input_size, hidden_size), relu=nn.ReLU(), output=nn.Linear(hidden_size, output_size)
    )


## Create synthetic data (NumPy standard normals, like torch.randn)
input_data, target_data = funcnn.data.synthetic_regression(100, 3, 1)

## Initialize the model, loss function, and optimizer
model = FeedforwardNN(input_size=3, hidden_size=10, output_size=1)
params = model.init(jax.random.key(0))
loss_function = nn.MSELoss()
optimizer = optax.sgd(0.01)
opt_state = optimizer.init(params)


def loss_fn(params, x, y):
    return loss_function(model.apply(params, x), y)


step = funcnn.train.make_train_step(loss_fn, optimizer)  # forward, backward and update in one compiled call

## Train the model
for epoch in range(100):  ## Number of training epochs
    params, opt_state, loss = step(params, opt_state, input_data, target_data)

    ## Print loss for the current epoch
    print(f"Epoch {epoch + 1}, Loss: {loss.item()}")
