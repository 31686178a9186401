"""Optimisers (torch.optim's interface) and learning-rate schedules."""
from . import functional, lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .asgd import ASGD
from .lbfgs import LBFGS
from .nadam import NAdam
from .optimizer import Optimizer, required
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler",
           "functional", "required", "Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop",
           "LBFGS"]
