"""Training: jit-compiled steps (and, built on them, `fit`)."""

from .._memory import reuse_heap_for_step_buffers as reuse_heap_for_step_buffers
from .callbacks import Callback as Callback
from .callbacks import EarlyStopping as EarlyStopping
from .ema import EMAState as EMAState
from .ema import ema_params as ema_params
from .ema import with_ema as with_ema
from .fit import FitResult as FitResult
from .fit import NonFiniteLossError as NonFiniteLossError
from .fit import fit as fit
from .fit_checkpoint import load_fit_checkpoint as load_fit_checkpoint
from .freeze import param_labels as param_labels
from .freeze import trainable_mask as trainable_mask
from .freeze import trainable_params as trainable_params
from .loggers import CSVLogger as CSVLogger
from .loggers import TensorBoardLogger as TensorBoardLogger
from .loss_scale import LossScaleState as LossScaleState
from .loss_scale import all_finite as all_finite
from .loss_scale import dynamic_loss_scale as dynamic_loss_scale
from .lr_finder import LRFinderResult as LRFinderResult
from .lr_finder import LRRecorder as LRRecorder
from .lr_finder import lr_find as lr_find
from .pretrained import LoadReport as LoadReport
from .pretrained import load_pretrained as load_pretrained
from .step import TrainState as TrainState
from .step import make_eval_step as make_eval_step
from .step import make_train_step as make_train_step
from .step import model_loss as model_loss

__all__ = [
    "CSVLogger",
    "Callback",
    "EMAState",
    "EarlyStopping",
    "FitResult",
    "LRFinderResult",
    "LRRecorder",
    "LoadReport",
    "LossScaleState",
    "NonFiniteLossError",
    "TensorBoardLogger",
    "TrainState",
    "all_finite",
    "dynamic_loss_scale",
    "ema_params",
    "fit",
    "load_fit_checkpoint",
    "load_pretrained",
    "lr_find",
    "make_eval_step",
    "make_train_step",
    "model_loss",
    "param_labels",
    "reuse_heap_for_step_buffers",
    "trainable_mask",
    "trainable_params",
    "with_ema",
]
