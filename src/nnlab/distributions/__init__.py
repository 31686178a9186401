"""Floor 5: probability distributions with torch.distributions' names: `log_prob`,
`sample` / `rsample` (drawn from nnlab's generator, so `nnlab.manual_seed` fixes them),
`entropy`, moments, and `kl_divergence` with a registry of closed forms."""
from . import constraints
from .bernoulli import Bernoulli
from .beta import Beta
from .categorical import Categorical, OneHotCategorical
from .dirichlet import Dirichlet
from .distribution import Distribution
from .gamma import Gamma
from .independent import Independent
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .relaxed import (
                      ExpRelaxedCategorical,
                      LogitRelaxedBernoulli,
                      RelaxedBernoulli,
                      RelaxedOneHotCategorical,
)
from .uniform import Uniform

__all__ = ["Bernoulli", "Beta", "Categorical", "Dirichlet", "Distribution",
           "ExpRelaxedCategorical", "Gamma", "Independent", "Laplace", "LogitRelaxedBernoulli",
           "MultivariateNormal", "Normal", "OneHotCategorical", "RelaxedBernoulli",
           "RelaxedOneHotCategorical", "Uniform", "constraints", "kl_divergence", "register_kl"]
