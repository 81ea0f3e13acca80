"""Training: jit-compiled steps (and, built on them, `fit`)."""

from .step import TrainState as TrainState
from .step import make_eval_step as make_eval_step
from .step import make_train_step as make_train_step
from .step import model_loss as model_loss

__all__ = ["TrainState", "make_eval_step", "make_train_step", "model_loss"]
