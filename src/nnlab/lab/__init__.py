"""Floor 8: experiments that reproduce the theory. Each is a function that returns its
numbers as a dict and, given `out=DIR`, writes its plot there; none prints.

    plain_vs_residual   gradient at the first conv at initialisation and training loss
                        after a fixed budget, plain vs residual CNNs of the 6n+2 family
    attention_scale     softmax entropy and gradient against d_k, attention logits with
                        and without the 1/sqrt(d_k) scale
    rnn_gradient_norms  ||dh_T/dh_0|| against T for tanh RNNs by spectral radius and for
                        LSTMs, and an exploding RNN trained with and without clipping
    iwae_gap            a VAE's IWAE bound -L_K on held-out MNIST for K from 1 to 1,000
                        against its negative ELBO: the gap to log p(x) shrinks as K grows
    latent_sampling     N(0, I) decoded by a plain AE and by a VAE, scored by a digit
                        classifier's confidence, and where the AE's codes really lie
    gcn_cora            Kipf & Welling's GCN on Cora / CiteSeer over seeded runs: test
                        accuracy mean +- std beside the paper's table (81.5, 70.3)
    gat_cora            Velickovic et al.'s GAT the same way (83.0 +- 0.7, 72.5 +- 0.7)
    link_prediction     a graph autoencoder on Cora's 85/5/10 edge split: test AUC and AP
                        beside the GAE paper's (91.0 / 92.0)
    oversmoothing       GCNs of depth 2 to 32, plain and residual: test accuracy and the
                        Dirichlet energy of the embeddings; untrained, layer by layer
    gin_vs_gcn          GIN (sum) against mean aggregation on WL-hard graphs: 100% vs 50%
"""
from .attention_scale import attention_scale
from .gin_vs_gcn import gin_vs_gcn
from .iwae_gap import iwae_gap
from .latent_sampling import latent_sampling
from .link_prediction import link_prediction
from .oversmoothing import oversmoothing
from .plain_vs_residual import plain_vs_residual
from .planetoid_runs import gat_cora, gcn_cora
from .rnn_gradients import rnn_gradient_norms

__all__ = ["attention_scale", "gat_cora", "gcn_cora", "gin_vs_gcn", "iwae_gap",
           "latent_sampling", "link_prediction", "oversmoothing", "plain_vs_residual",
           "rnn_gradient_norms"]
