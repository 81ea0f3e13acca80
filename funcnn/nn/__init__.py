"""Layers, containers and losses, mirroring ``torch.nn``.

Every layer is a `Module`: ``params = layer.init(key)``, ``y = layer.apply(params, x)``.
"""

from . import functional as functional
from . import init as init
from .activation import ELU as ELU
from .activation import GELU as GELU
from .activation import Hardtanh as Hardtanh
from .activation import LeakyReLU as LeakyReLU
from .activation import LogSoftmax as LogSoftmax
from .activation import ReLU as ReLU
from .activation import Sigmoid as Sigmoid
from .activation import SiLU as SiLU
from .activation import Softmax as Softmax
from .activation import Softplus as Softplus
from .activation import Tanh as Tanh
from .container import Lambda as Lambda
from .container import Sequential as Sequential
from .flatten import Flatten as Flatten
from .flatten import Unflatten as Unflatten
from .linear import Identity as Identity
from .linear import Linear as Linear
from .module import Module as Module

__all__ = [
    "ELU",
    "Flatten",
    "GELU",
    "Hardtanh",
    "Identity",
    "Lambda",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "Module",
    "ReLU",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Tanh",
    "Unflatten",
    "functional",
    "init",
]
