"""Floor 5: modules. `Module` and `Parameter`, containers, layers and `init`."""
from . import functional, init, utils
from .activation import (
                         ELU,
                         GELU,
                         Arctan,
                         Hardtanh,
                         LeakyReLU,
                         LogSoftmax,
                         PReLU,
                         ReLU,
                         Sigmoid,
                         SiLU,
                         Softmax,
                         Softplus,
                         Softsign,
                         SwiGLU,
                         Swish,
                         Tanh,
)
from .container import Flatten, Identity, ModuleDict, ModuleList, Sequential, Unflatten
from .dropout import Dropout
from .linear import Bilinear, Embedding, Linear
from .loss import (
                         BCELoss,
                         BCEWithLogitsLoss,
                         CosineEmbeddingLoss,
                         CrossEntropyLoss,
                         GaussianNLLLoss,
                         HuberLoss,
                         KLDivLoss,
                         L1Loss,
                         MarginRankingLoss,
                         MSELoss,
                         NLLLoss,
                         SmoothL1Loss,
)
from .module import Module
from .normalization import BatchNorm1d, LayerNorm, RMSNorm
from .parameter import Parameter
