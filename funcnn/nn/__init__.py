"""Layers, containers and losses, mirroring ``torch.nn``.

Every layer is a `Module`: ``params = layer.init(key)``, ``y = layer.apply(params, x)``.
"""

from . import functional as functional
from . import init as init
from . import utils as utils
from ._params_check import check_params as check_params
from .activation import ELU as ELU
from .activation import GELU as GELU
from .activation import GLU as GLU
from .activation import Hardtanh as Hardtanh
from .activation import LeakyReLU as LeakyReLU
from .activation import LogSoftmax as LogSoftmax
from .activation import ReLU as ReLU
from .activation import Sigmoid as Sigmoid
from .activation import SiLU as SiLU
from .activation import Softmax as Softmax
from .activation import Softmax2d as Softmax2d
from .activation import Softmin as Softmin
from .activation import Softplus as Softplus
from .activation import Tanh as Tanh
from .activation_piecewise import Hardshrink as Hardshrink
from .activation_piecewise import Hardsigmoid as Hardsigmoid
from .activation_piecewise import Hardswish as Hardswish
from .activation_piecewise import PReLU as PReLU
from .activation_piecewise import ReLU6 as ReLU6
from .activation_piecewise import RReLU as RReLU
from .activation_piecewise import Softshrink as Softshrink
from .activation_piecewise import Threshold as Threshold
from .activation_smooth import CELU as CELU
from .activation_smooth import SELU as SELU
from .activation_smooth import LogSigmoid as LogSigmoid
from .activation_smooth import Mish as Mish
from .activation_smooth import Softsign as Softsign
from .activation_smooth import Tanhshrink as Tanhshrink
from .adaptive import AdaptiveLogSoftmaxWithLoss as AdaptiveLogSoftmaxWithLoss
from .adaptive_pooling import AdaptiveAvgPool1d as AdaptiveAvgPool1d
from .adaptive_pooling import AdaptiveAvgPool2d as AdaptiveAvgPool2d
from .adaptive_pooling import AdaptiveAvgPool3d as AdaptiveAvgPool3d
from .adaptive_pooling import AdaptiveMaxPool1d as AdaptiveMaxPool1d
from .adaptive_pooling import AdaptiveMaxPool2d as AdaptiveMaxPool2d
from .adaptive_pooling import AdaptiveMaxPool3d as AdaptiveMaxPool3d
from .attention import MultiheadAttention as MultiheadAttention
from .batchnorm import BatchNorm1d as BatchNorm1d
from .batchnorm import BatchNorm2d as BatchNorm2d
from .batchnorm import BatchNorm3d as BatchNorm3d
from .batchnorm import SyncBatchNorm as SyncBatchNorm
from .bilinear import Bilinear as Bilinear
from .channelshuffle import ChannelShuffle as ChannelShuffle
from .container import ChildRunner as ChildRunner
from .container import Lambda as Lambda
from .container import ModuleDict as ModuleDict
from .container import ModuleList as ModuleList
from .container import Parallel as Parallel
from .container import Residual as Residual
from .container import Sequential as Sequential
from .container import init_children as init_children
from .container import init_children_state as init_children_state
from .conv import Conv1d as Conv1d
from .conv import Conv2d as Conv2d
from .conv import Conv3d as Conv3d
from .conv import ConvTranspose1d as ConvTranspose1d
from .conv import ConvTranspose2d as ConvTranspose2d
from .conv import ConvTranspose3d as ConvTranspose3d
from .distance import CosineSimilarity as CosineSimilarity
from .distance import PairwiseDistance as PairwiseDistance
from .dropout import AlphaDropout as AlphaDropout
from .dropout import Dropout as Dropout
from .dropout import Dropout1d as Dropout1d
from .dropout import Dropout2d as Dropout2d
from .dropout import Dropout3d as Dropout3d
from .dropout import FeatureAlphaDropout as FeatureAlphaDropout
from .flatten import Flatten as Flatten
from .flatten import Unflatten as Unflatten
from .fold import Fold as Fold
from .fold import Unfold as Unfold
from .fractional_pooling import FractionalMaxPool2d as FractionalMaxPool2d
from .fractional_pooling import FractionalMaxPool3d as FractionalMaxPool3d
from .holders import ParameterDict as ParameterDict
from .holders import ParameterList as ParameterList
from .linear import Identity as Identity
from .linear import Linear as Linear
from .linear_cross_entropy import LinearCrossEntropyLoss as LinearCrossEntropyLoss
from .linear_cross_entropy import LinearCrossEntropyOptions as LinearCrossEntropyOptions
from .loss import BCELoss as BCELoss
from .loss import BCEWithLogitsLoss as BCEWithLogitsLoss
from .loss import CrossEntropyLoss as CrossEntropyLoss
from .loss import GaussianNLLLoss as GaussianNLLLoss
from .loss import HuberLoss as HuberLoss
from .loss import KLDivLoss as KLDivLoss
from .loss import L1Loss as L1Loss
from .loss import MSELoss as MSELoss
from .loss import NLLLoss as NLLLoss
from .loss import NLLLoss2d as NLLLoss2d
from .loss import PoissonNLLLoss as PoissonNLLLoss
from .loss import SmoothL1Loss as SmoothL1Loss
from .loss_ctc import CTCLoss as CTCLoss
from .loss_margin import CosineEmbeddingLoss as CosineEmbeddingLoss
from .loss_margin import HingeEmbeddingLoss as HingeEmbeddingLoss
from .loss_margin import MarginRankingLoss as MarginRankingLoss
from .loss_margin import MultiLabelMarginLoss as MultiLabelMarginLoss
from .loss_margin import MultiLabelSoftMarginLoss as MultiLabelSoftMarginLoss
from .loss_margin import MultiMarginLoss as MultiMarginLoss
from .loss_margin import SoftMarginLoss as SoftMarginLoss
from .loss_margin import TripletMarginLoss as TripletMarginLoss
from .loss_margin import TripletMarginWithDistanceLoss as TripletMarginWithDistanceLoss
from .module import Module as Module
from .module import Params as Params  # type aliases (dict[str, Any]) for annotations; not in __all__
from .module import State as State
from .normalization import CrossMapLRN2d as CrossMapLRN2d
from .normalization import GroupNorm as GroupNorm
from .normalization import InstanceNorm1d as InstanceNorm1d
from .normalization import InstanceNorm2d as InstanceNorm2d
from .normalization import InstanceNorm3d as InstanceNorm3d
from .normalization import LayerNorm as LayerNorm
from .normalization import LocalResponseNorm as LocalResponseNorm
from .normalization import RMSNorm as RMSNorm
from .padding import CircularPad1d as CircularPad1d
from .padding import CircularPad2d as CircularPad2d
from .padding import CircularPad3d as CircularPad3d
from .padding import ConstantPad1d as ConstantPad1d
from .padding import ConstantPad2d as ConstantPad2d
from .padding import ConstantPad3d as ConstantPad3d
from .padding import ReflectionPad1d as ReflectionPad1d
from .padding import ReflectionPad2d as ReflectionPad2d
from .padding import ReflectionPad3d as ReflectionPad3d
from .padding import ReplicationPad1d as ReplicationPad1d
from .padding import ReplicationPad2d as ReplicationPad2d
from .padding import ReplicationPad3d as ReplicationPad3d
from .padding import ZeroPad1d as ZeroPad1d
from .padding import ZeroPad2d as ZeroPad2d
from .padding import ZeroPad3d as ZeroPad3d
from .parameter import Buffer as Buffer
from .parameter import Parameter as Parameter
from .pixelshuffle import PixelShuffle as PixelShuffle
from .pixelshuffle import PixelUnshuffle as PixelUnshuffle
from .pooling import AvgPool1d as AvgPool1d
from .pooling import AvgPool2d as AvgPool2d
from .pooling import AvgPool3d as AvgPool3d
from .pooling import LPPool1d as LPPool1d
from .pooling import LPPool2d as LPPool2d
from .pooling import LPPool3d as LPPool3d
from .pooling import MaxPool1d as MaxPool1d
from .pooling import MaxPool2d as MaxPool2d
from .pooling import MaxPool3d as MaxPool3d
from .precision import MixedPrecision as MixedPrecision
from .precision import Policy as Policy
from .rnn import GRU as GRU
from .rnn import LSTM as LSTM
from .rnn import RNN as RNN
from .rnn import GRUCell as GRUCell
from .rnn import LSTMCell as LSTMCell
from .rnn import RNNBase as RNNBase
from .rnn import RNNCell as RNNCell
from .rnn import RNNCellBase as RNNCellBase
from .sparse import Embedding as Embedding
from .sparse import EmbeddingBag as EmbeddingBag
from .summary import summary as summary
from .tied import Tied as Tied
from .tied import tied_keys as tied_keys
from .transformer import TransformerEncoder as TransformerEncoder
from .transformer import TransformerEncoderLayer as TransformerEncoderLayer
from .transformer import generate_square_subsequent_mask as generate_square_subsequent_mask
from .transformer_decoder import TransformerDecoder as TransformerDecoder
from .transformer_decoder import TransformerDecoderLayer as TransformerDecoderLayer
from .transformer_model import Transformer as Transformer
from .unpooling import MaxUnpool1d as MaxUnpool1d
from .unpooling import MaxUnpool2d as MaxUnpool2d
from .unpooling import MaxUnpool3d as MaxUnpool3d
from .upsampling import Upsample as Upsample
from .upsampling import UpsamplingBilinear2d as UpsamplingBilinear2d
from .upsampling import UpsamplingNearest2d as UpsamplingNearest2d

__all__ = [
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveAvgPool3d",
    "AdaptiveLogSoftmaxWithLoss",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "AdaptiveMaxPool3d",
    "AlphaDropout",
    "AvgPool1d",
    "AvgPool2d",
    "AvgPool3d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNorm3d",
    "Bilinear",
    "Buffer",
    "CELU",
    "CTCLoss",
    "ChannelShuffle",
    "ChildRunner",
    "CircularPad1d",
    "CircularPad2d",
    "CircularPad3d",
    "ConstantPad1d",
    "ConstantPad2d",
    "ConstantPad3d",
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "ConvTranspose3d",
    "CosineEmbeddingLoss",
    "CosineSimilarity",
    "CrossEntropyLoss",
    "CrossMapLRN2d",
    "Dropout",
    "Dropout1d",
    "Dropout2d",
    "Dropout3d",
    "ELU",
    "Embedding",
    "EmbeddingBag",
    "FeatureAlphaDropout",
    "Flatten",
    "Fold",
    "FractionalMaxPool2d",
    "FractionalMaxPool3d",
    "GELU",
    "GLU",
    "GRU",
    "GRUCell",
    "GaussianNLLLoss",
    "GroupNorm",
    "Hardshrink",
    "Hardsigmoid",
    "Hardswish",
    "Hardtanh",
    "HingeEmbeddingLoss",
    "HuberLoss",
    "Identity",
    "InstanceNorm1d",
    "InstanceNorm2d",
    "InstanceNorm3d",
    "KLDivLoss",
    "L1Loss",
    "LPPool1d",
    "LPPool2d",
    "LPPool3d",
    "LSTM",
    "LSTMCell",
    "Lambda",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LinearCrossEntropyLoss",
    "LinearCrossEntropyOptions",
    "LocalResponseNorm",
    "LogSigmoid",
    "LogSoftmax",
    "MSELoss",
    "MarginRankingLoss",
    "MaxPool1d",
    "MaxPool2d",
    "MaxPool3d",
    "MaxUnpool1d",
    "MaxUnpool2d",
    "MaxUnpool3d",
    "Mish",
    "MixedPrecision",
    "Module",
    "ModuleDict",
    "ModuleList",
    "MultiLabelMarginLoss",
    "MultiLabelSoftMarginLoss",
    "MultiMarginLoss",
    "MultiheadAttention",
    "NLLLoss",
    "NLLLoss2d",
    "PReLU",
    "PairwiseDistance",
    "Parallel",
    "Parameter",
    "ParameterDict",
    "ParameterList",
    "PixelShuffle",
    "PixelUnshuffle",
    "PoissonNLLLoss",
    "Policy",
    "RMSNorm",
    "RNN",
    "RNNBase",
    "RNNCell",
    "RNNCellBase",
    "RReLU",
    "ReLU",
    "ReLU6",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReflectionPad3d",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "ReplicationPad3d",
    "Residual",
    "SELU",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "SmoothL1Loss",
    "SoftMarginLoss",
    "Softmax",
    "Softmax2d",
    "Softmin",
    "Softplus",
    "Softshrink",
    "Softsign",
    "SyncBatchNorm",
    "Tanh",
    "Tanhshrink",
    "Threshold",
    "Tied",
    "Transformer",
    "TransformerDecoder",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerEncoderLayer",
    "TripletMarginLoss",
    "TripletMarginWithDistanceLoss",
    "Unflatten",
    "Unfold",
    "Upsample",
    "UpsamplingBilinear2d",
    "UpsamplingNearest2d",
    "ZeroPad1d",
    "ZeroPad2d",
    "ZeroPad3d",
    "check_params",
    "functional",
    "generate_square_subsequent_mask",
    "init",
    "init_children",
    "init_children_state",
    "summary",
    "tied_keys",
    "utils",
]
