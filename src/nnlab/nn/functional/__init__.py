"""Floor 4: layers as functions (`nnlab.nn.functional`, imported as F), PyTorch's names."""
from .activation import (
                         arctan,
                         elu,
                         gelu,
                         hardtanh,
                         leaky_relu,
                         log_softmax,
                         prelu,
                         relu,
                         sigmoid,
                         silu,
                         softmax,
                         softplus,
                         softsign,
                         swish,
                         tanh,
)
from .dropout import dropout
from .linear import bilinear, embedding, linear
from .loss import (
                         binary_cross_entropy,
                         binary_cross_entropy_with_logits,
                         cosine_embedding_loss,
                         cross_entropy,
                         gaussian_nll_loss,
                         huber_loss,
                         kl_div,
                         l1_loss,
                         margin_ranking_loss,
                         mse_loss,
                         nll_loss,
                         smooth_l1_loss,
)
from .normalization import batch_norm, layer_norm, rms_norm
