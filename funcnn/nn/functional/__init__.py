"""Pure ops with ``torch.nn.functional``'s names, arguments and numbers.

Every layer in `funcnn.nn` is a thin wrapper of the functions here.
"""

from .activation import elu as elu
from .activation import gelu as gelu
from .activation import hardtanh as hardtanh
from .activation import leaky_relu as leaky_relu
from .activation import log_softmax as log_softmax
from .activation import relu as relu
from .activation import sigmoid as sigmoid
from .activation import silu as silu
from .activation import softmax as softmax
from .activation import softplus as softplus
from .activation import tanh as tanh
from .linear import linear as linear

__all__ = [
    "elu",
    "gelu",
    "hardtanh",
    "leaky_relu",
    "linear",
    "log_softmax",
    "relu",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "tanh",
]
