"""Helpers of ``torch.nn.utils``: gradient clipping, parameters as one vector, parametrizations, padded sequences.

Examples:
  >>> import jax.numpy as jnp
  >>> from funcnn import nn
  >>> float(nn.utils.get_total_norm({"w": jnp.array([3.0, 4.0])}))
  5.0
"""

from . import parametrizations as parametrizations
from . import rnn as rnn
from .clip_grad import ClipGradNormState as ClipGradNormState
from .clip_grad import clip_grad_norm as clip_grad_norm
from .clip_grad import clip_grad_value as clip_grad_value
from .clip_grad import clip_grads_with_norm as clip_grads_with_norm
from .clip_grad import get_total_norm as get_total_norm
from .convert_parameters import parameters_to_vector as parameters_to_vector
from .convert_parameters import vector_to_parameters as vector_to_parameters
from .rnn import PackedSequence as PackedSequence
from .rnn import pack_padded_sequence as pack_padded_sequence
from .rnn import pack_sequence as pack_sequence
from .rnn import pad_packed_sequence as pad_packed_sequence
from .rnn import pad_sequence as pad_sequence
from .rnn import unpack_sequence as unpack_sequence
from .rnn import unpad_sequence as unpad_sequence

__all__ = [
    "ClipGradNormState",
    "PackedSequence",
    "clip_grad_norm",
    "clip_grad_value",
    "clip_grads_with_norm",
    "get_total_norm",
    "pack_padded_sequence",
    "pack_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "parameters_to_vector",
    "parametrizations",
    "rnn",
    "unpack_sequence",
    "unpad_sequence",
    "vector_to_parameters",
]
