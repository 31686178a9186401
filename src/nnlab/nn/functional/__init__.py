"""Floor 4: layers as functions (`nnlab.nn.functional`, imported as F), PyTorch's names."""
from ...ops.shape import pad
from .activation import (
                         arctan,
                         celu,
                         elu,
                         gelu,
                         glu,
                         gumbel_softmax,
                         hardshrink,
                         hardsigmoid,
                         hardswish,
                         hardtanh,
                         leaky_relu,
                         log_softmax,
                         logsigmoid,
                         mish,
                         prelu,
                         relu,
                         relu6,
                         rrelu,
                         selu,
                         sigmoid,
                         silu,
                         softmax,
                         softmin,
                         softplus,
                         softshrink,
                         softsign,
                         swish,
                         tanh,
                         tanhshrink,
                         threshold,
)
from .alpha_dropout import alpha_dropout, feature_alpha_dropout
from .attention import flash_attention, scaled_dot_product_attention
from .conv import (
                         conv1d,
                         conv2d,
                         conv3d,
                         conv_transpose1d,
                         conv_transpose2d,
                         fold,
                         unfold,
)
from .distance import cosine_similarity, normalize, pairwise_distance
from .dropout import dropout, dropout1d, dropout2d, dropout3d
from .embedding_bag import embedding_bag
from .instance_norm import instance_norm, local_response_norm
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
from .margin_losses import (
                         hinge_embedding_loss,
                         multi_margin_loss,
                         multilabel_margin_loss,
                         multilabel_soft_margin_loss,
                         poisson_nll_loss,
                         soft_margin_loss,
                         triplet_margin_loss,
                         triplet_margin_with_distance_loss,
)
from .normalization import batch_norm, group_norm, layer_norm, rms_norm
from .pixel import channel_shuffle, pixel_shuffle, pixel_unshuffle
from .pooling import (
                         adaptive_avg_pool1d,
                         adaptive_avg_pool2d,
                         adaptive_max_pool1d,
                         adaptive_max_pool2d,
                         avg_pool1d,
                         avg_pool2d,
                         max_pool1d,
                         max_pool2d,
                         max_unpool1d,
                         max_unpool2d,
)
from .sparse import one_hot
from .upsampling import interpolate
