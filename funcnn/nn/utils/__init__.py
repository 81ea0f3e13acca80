"""Helpers of ``torch.nn.utils``: gradient clipping, parameters as one vector, parametrizations, padded sequences.

Examples:
  >>> import jax.numpy as jnp
  >>> from funcnn import nn
  >>> float(nn.utils.get_total_norm({"w": jnp.array([3.0, 4.0])}))
  5.0
"""

from .clip_grad import ClipGradNormState as ClipGradNormState
from .clip_grad import clip_grad_norm as clip_grad_norm
from .clip_grad import clip_grad_value as clip_grad_value
from .clip_grad import clip_grads_with_norm as clip_grads_with_norm
from .clip_grad import get_total_norm as get_total_norm
from .convert_parameters import parameters_to_vector as parameters_to_vector
from .convert_parameters import vector_to_parameters as vector_to_parameters

__all__ = [
    "ClipGradNormState",
    "clip_grad_norm",
    "clip_grad_value",
    "clip_grads_with_norm",
    "get_total_norm",
    "parameters_to_vector",
    "vector_to_parameters",
]
