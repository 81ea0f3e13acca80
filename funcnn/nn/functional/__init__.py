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
from .attention import multi_head_attention_forward as multi_head_attention_forward
from .attention import scaled_dot_product_attention as scaled_dot_product_attention
from .bilinear import bilinear as bilinear
from .conv import conv1d as conv1d
from .conv import conv2d as conv2d
from .conv import conv3d as conv3d
from .conv import conv_transpose1d as conv_transpose1d
from .conv import conv_transpose2d as conv_transpose2d
from .conv import pad as pad
from .distance import cosine_similarity as cosine_similarity
from .distance import pairwise_distance as pairwise_distance
from .distance import pdist as pdist
from .dropout import dropout as dropout
from .dropout import dropout1d as dropout1d
from .dropout import dropout2d as dropout2d
from .grid_sample import affine_grid as affine_grid
from .grid_sample import grid_sample as grid_sample
from .gumbel import gumbel_softmax as gumbel_softmax
from .interpolate import interpolate as interpolate
from .interpolate import upsample as upsample
from .interpolate import upsample_bilinear as upsample_bilinear
from .interpolate import upsample_nearest as upsample_nearest
from .linear import linear as linear
from .loss import binary_cross_entropy as binary_cross_entropy
from .loss import binary_cross_entropy_with_logits as binary_cross_entropy_with_logits
from .loss import cross_entropy as cross_entropy
from .loss import huber_loss as huber_loss
from .loss import kl_div as kl_div
from .loss import l1_loss as l1_loss
from .loss import mse_loss as mse_loss
from .loss import nll_loss as nll_loss
from .loss import smooth_l1_loss as smooth_l1_loss
from .normalization import batch_norm as batch_norm
from .normalization import group_norm as group_norm
from .normalization import instance_norm as instance_norm
from .normalization import layer_norm as layer_norm
from .norms import normalize as normalize
from .one_hot import one_hot as one_hot
from .pooling import adaptive_avg_pool1d as adaptive_avg_pool1d
from .pooling import adaptive_avg_pool2d as adaptive_avg_pool2d
from .pooling import adaptive_max_pool1d as adaptive_max_pool1d
from .pooling import adaptive_max_pool2d as adaptive_max_pool2d
from .pooling import avg_pool1d as avg_pool1d
from .pooling import avg_pool2d as avg_pool2d
from .pooling import max_pool1d as max_pool1d
from .pooling import max_pool2d as max_pool2d
from .rnn import gru as gru
from .rnn import gru_cell as gru_cell
from .rnn import lstm as lstm
from .rnn import lstm_cell as lstm_cell
from .rnn import rnn_relu as rnn_relu
from .rnn import rnn_relu_cell as rnn_relu_cell
from .rnn import rnn_tanh as rnn_tanh
from .rnn import rnn_tanh_cell as rnn_tanh_cell
from .sparse import embedding as embedding

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "affine_grid",
    "avg_pool1d",
    "avg_pool2d",
    "batch_norm",
    "bilinear",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "cosine_similarity",
    "cross_entropy",
    "dropout",
    "dropout1d",
    "dropout2d",
    "elu",
    "embedding",
    "gelu",
    "grid_sample",
    "group_norm",
    "gru",
    "gru_cell",
    "gumbel_softmax",
    "hardtanh",
    "huber_loss",
    "instance_norm",
    "interpolate",
    "kl_div",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "lstm",
    "lstm_cell",
    "max_pool1d",
    "max_pool2d",
    "mse_loss",
    "multi_head_attention_forward",
    "nll_loss",
    "normalize",
    "one_hot",
    "pad",
    "pairwise_distance",
    "pdist",
    "relu",
    "rnn_relu",
    "rnn_relu_cell",
    "rnn_tanh",
    "rnn_tanh_cell",
    "scaled_dot_product_attention",
    "sigmoid",
    "silu",
    "smooth_l1_loss",
    "softmax",
    "softplus",
    "tanh",
    "upsample",
    "upsample_bilinear",
    "upsample_nearest",
]
