"""nn.utils: gradient clipping, weight penalties, parameter counts and model summaries."""
from . import rnn
from .clip_grad import clip_grad_norm_, clip_grad_value_
from .penalty import l1_penalty, l2_penalty
from .summary import count_parameters, summary
