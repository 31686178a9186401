"""nn.utils: gradient clipping, weight penalties, parameter counts, model summaries,
parametrizations (weight and spectral normalisation) and parameters as one vector."""
from . import parametrizations, parametrize, rnn
from .clip_grad import clip_grad_norm_, clip_grad_value_
from .convert_parameters import parameters_to_vector, vector_to_parameters
from .penalty import l1_penalty, l2_penalty
from .spectral_norm import remove_spectral_norm, spectral_norm
from .summary import count_parameters, summary
from .weight_norm import remove_weight_norm, weight_norm
