"""funcnn: PyTorch's ``torch.nn`` as pure functions on JAX.

A model is a pair of pure functions over a parameter pytree::

    import jax
    from funcnn import nn
    model = nn.Sequential(nn.Linear(3, 10), nn.ReLU(), nn.Linear(10, 1))
    params = model.init(jax.random.key(0))
    y = model.apply(params, x)
"""

from . import checkpoint as checkpoint
from . import data as data
from . import nn as nn
from . import parallel as parallel
from . import train as train
from ._version import __version__ as __version__
from .serialization import load_state_dict as load_state_dict
from .serialization import state_dict as state_dict

__all__ = ["__version__", "checkpoint", "data", "load_state_dict", "nn", "parallel", "state_dict", "train"]
