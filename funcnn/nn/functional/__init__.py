"""Pure ops with ``torch.nn.functional``'s names, arguments and numbers.

Every layer in `funcnn.nn` is a thin wrapper of the functions here. The seam between
the two: an op's file holds one owner-aware core, ``<op>_impl(owner, ...)`` (e.g.
``loss.mse_loss_impl``), that checks the inputs once and computes; the function here
calls it with its own name as ``owner`` and the layer with its ``repr``, having checked
only its constructor arguments (the shared checks live in ``funcnn.nn._checks``). The
cores are public in their files but not exported here, and a layer uses no private name
of a functional file.
"""

from .activation import elu as elu
from .activation import gelu as gelu
from .activation import glu as glu
from .activation import hardtanh as hardtanh
from .activation import leaky_relu as leaky_relu
from .activation import log_softmax as log_softmax
from .activation import relu as relu
from .activation import sigmoid as sigmoid
from .activation import silu as silu
from .activation import softmax as softmax
from .activation import softmin as softmin
from .activation import softplus as softplus
from .activation import tanh as tanh
from .activation_piecewise import hardshrink as hardshrink
from .activation_piecewise import hardsigmoid as hardsigmoid
from .activation_piecewise import hardswish as hardswish
from .activation_piecewise import prelu as prelu
from .activation_piecewise import relu6 as relu6
from .activation_piecewise import rrelu as rrelu
from .activation_piecewise import softshrink as softshrink
from .activation_piecewise import threshold as threshold
from .activation_smooth import celu as celu
from .activation_smooth import logsigmoid as logsigmoid
from .activation_smooth import mish as mish
from .activation_smooth import selu as selu
from .activation_smooth import softsign as softsign
from .activation_smooth import tanhshrink as tanhshrink
from .adaptive_pool import adaptive_avg_pool1d as adaptive_avg_pool1d
from .adaptive_pool import adaptive_avg_pool2d as adaptive_avg_pool2d
from .adaptive_pool import adaptive_avg_pool3d as adaptive_avg_pool3d
from .adaptive_pool import adaptive_max_pool1d as adaptive_max_pool1d
from .adaptive_pool import adaptive_max_pool1d_with_indices as adaptive_max_pool1d_with_indices
from .adaptive_pool import adaptive_max_pool2d as adaptive_max_pool2d
from .adaptive_pool import adaptive_max_pool2d_with_indices as adaptive_max_pool2d_with_indices
from .adaptive_pool import adaptive_max_pool3d as adaptive_max_pool3d
from .adaptive_pool import adaptive_max_pool3d_with_indices as adaptive_max_pool3d_with_indices
from .attention import multi_head_attention_forward as multi_head_attention_forward
from .attention import scaled_dot_product_attention as scaled_dot_product_attention
from .avg_pool import avg_pool1d as avg_pool1d
from .avg_pool import avg_pool2d as avg_pool2d
from .avg_pool import avg_pool3d as avg_pool3d
from .bilinear import bilinear as bilinear
from .channelshuffle import channel_shuffle as channel_shuffle
from .channelshuffle import native_channel_shuffle as native_channel_shuffle
from .conv import conv1d as conv1d
from .conv import conv2d as conv2d
from .conv import conv3d as conv3d
from .conv import conv_tbc as conv_tbc
from .conv_transpose import conv_transpose1d as conv_transpose1d
from .conv_transpose import conv_transpose2d as conv_transpose2d
from .conv_transpose import conv_transpose3d as conv_transpose3d
from .distance import cosine_similarity as cosine_similarity
from .distance import pairwise_distance as pairwise_distance
from .distance import pdist as pdist
from .dropout import alpha_dropout as alpha_dropout
from .dropout import dropout as dropout
from .dropout import dropout1d as dropout1d
from .dropout import dropout2d as dropout2d
from .dropout import dropout3d as dropout3d
from .dropout import feature_alpha_dropout as feature_alpha_dropout
from .fold import fold as fold
from .fold import unfold as unfold
from .fractional_pool import fractional_max_pool2d as fractional_max_pool2d
from .fractional_pool import fractional_max_pool2d_with_indices as fractional_max_pool2d_with_indices
from .fractional_pool import fractional_max_pool3d as fractional_max_pool3d
from .fractional_pool import fractional_max_pool3d_with_indices as fractional_max_pool3d_with_indices
from .grid_sample import affine_grid as affine_grid
from .grid_sample import grid_sample as grid_sample
from .grouped_mm import grouped_mm as grouped_mm
from .gumbel import gumbel_softmax as gumbel_softmax
from .interpolate import interpolate as interpolate
from .interpolate import upsample as upsample
from .interpolate import upsample_bilinear as upsample_bilinear
from .interpolate import upsample_nearest as upsample_nearest
from .linear import linear as linear
from .local_response_norm import local_response_norm as local_response_norm
from .loss import gaussian_nll_loss as gaussian_nll_loss
from .loss import huber_loss as huber_loss
from .loss import l1_loss as l1_loss
from .loss import mse_loss as mse_loss
from .loss import poisson_nll_loss as poisson_nll_loss
from .loss import smooth_l1_loss as smooth_l1_loss
from .loss_classification import cross_entropy as cross_entropy
from .loss_classification import nll_loss as nll_loss
from .loss_ctc import ctc_loss as ctc_loss
from .loss_embedding import cosine_embedding_loss as cosine_embedding_loss
from .loss_embedding import triplet_margin_loss as triplet_margin_loss
from .loss_embedding import triplet_margin_with_distance_loss as triplet_margin_with_distance_loss
from .loss_linear import linear_cross_entropy as linear_cross_entropy
from .loss_margin import hinge_embedding_loss as hinge_embedding_loss
from .loss_margin import margin_ranking_loss as margin_ranking_loss
from .loss_margin import multi_margin_loss as multi_margin_loss
from .loss_margin import multilabel_margin_loss as multilabel_margin_loss
from .loss_margin import multilabel_soft_margin_loss as multilabel_soft_margin_loss
from .loss_margin import soft_margin_loss as soft_margin_loss
from .loss_probability import binary_cross_entropy as binary_cross_entropy
from .loss_probability import binary_cross_entropy_with_logits as binary_cross_entropy_with_logits
from .loss_probability import kl_div as kl_div
from .lp_pool import lp_pool1d as lp_pool1d
from .lp_pool import lp_pool2d as lp_pool2d
from .lp_pool import lp_pool3d as lp_pool3d
from .max_pool import max_pool1d as max_pool1d
from .max_pool import max_pool1d_with_indices as max_pool1d_with_indices
from .max_pool import max_pool2d as max_pool2d
from .max_pool import max_pool2d_with_indices as max_pool2d_with_indices
from .max_pool import max_pool3d as max_pool3d
from .max_pool import max_pool3d_with_indices as max_pool3d_with_indices
from .normalization import batch_norm as batch_norm
from .normalization import group_norm as group_norm
from .normalization import instance_norm as instance_norm
from .normalization import layer_norm as layer_norm
from .norms import normalize as normalize
from .one_hot import one_hot as one_hot
from .padding import pad as pad
from .pixelshuffle import pixel_shuffle as pixel_shuffle
from .pixelshuffle import pixel_unshuffle as pixel_unshuffle
from .rms_norm import rms_norm as rms_norm
from .rnn import gru as gru
from .rnn import lstm as lstm
from .rnn import rnn_relu as rnn_relu
from .rnn import rnn_tanh as rnn_tanh
from .rnn_cell import gru_cell as gru_cell
from .rnn_cell import lstm_cell as lstm_cell
from .rnn_cell import rnn_relu_cell as rnn_relu_cell
from .rnn_cell import rnn_tanh_cell as rnn_tanh_cell
from .sparse import embedding as embedding
from .sparse import embedding_bag as embedding_bag
from .unpool import max_unpool1d as max_unpool1d
from .unpool import max_unpool2d as max_unpool2d
from .unpool import max_unpool3d as max_unpool3d

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_avg_pool3d",
    "adaptive_max_pool1d",
    "adaptive_max_pool1d_with_indices",
    "adaptive_max_pool2d",
    "adaptive_max_pool2d_with_indices",
    "adaptive_max_pool3d",
    "adaptive_max_pool3d_with_indices",
    "affine_grid",
    "alpha_dropout",
    "avg_pool1d",
    "avg_pool2d",
    "avg_pool3d",
    "batch_norm",
    "bilinear",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "celu",
    "channel_shuffle",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_tbc",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "cosine_embedding_loss",
    "cosine_similarity",
    "cross_entropy",
    "ctc_loss",
    "dropout",
    "dropout1d",
    "dropout2d",
    "dropout3d",
    "elu",
    "embedding",
    "embedding_bag",
    "feature_alpha_dropout",
    "fold",
    "fractional_max_pool2d",
    "fractional_max_pool2d_with_indices",
    "fractional_max_pool3d",
    "fractional_max_pool3d_with_indices",
    "gaussian_nll_loss",
    "gelu",
    "glu",
    "grid_sample",
    "group_norm",
    "grouped_mm",
    "gru",
    "gru_cell",
    "gumbel_softmax",
    "hardshrink",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "hinge_embedding_loss",
    "huber_loss",
    "instance_norm",
    "interpolate",
    "kl_div",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "linear_cross_entropy",
    "local_response_norm",
    "log_softmax",
    "logsigmoid",
    "lp_pool1d",
    "lp_pool2d",
    "lp_pool3d",
    "lstm",
    "lstm_cell",
    "margin_ranking_loss",
    "max_pool1d",
    "max_pool1d_with_indices",
    "max_pool2d",
    "max_pool2d_with_indices",
    "max_pool3d",
    "max_pool3d_with_indices",
    "max_unpool1d",
    "max_unpool2d",
    "max_unpool3d",
    "mish",
    "mse_loss",
    "multi_head_attention_forward",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "multilabel_soft_margin_loss",
    "native_channel_shuffle",
    "nll_loss",
    "normalize",
    "one_hot",
    "pad",
    "pairwise_distance",
    "pdist",
    "pixel_shuffle",
    "pixel_unshuffle",
    "poisson_nll_loss",
    "prelu",
    "relu",
    "relu6",
    "rms_norm",
    "rnn_relu",
    "rnn_relu_cell",
    "rnn_tanh",
    "rnn_tanh_cell",
    "rrelu",
    "scaled_dot_product_attention",
    "selu",
    "sigmoid",
    "silu",
    "smooth_l1_loss",
    "soft_margin_loss",
    "softmax",
    "softmin",
    "softplus",
    "softshrink",
    "softsign",
    "tanh",
    "tanhshrink",
    "threshold",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
    "unfold",
    "upsample",
    "upsample_bilinear",
    "upsample_nearest",
]
