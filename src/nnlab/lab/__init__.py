"""Floor 8: experiments that reproduce the theory. Each is a function that returns its
numbers as a dict and, given `out=DIR`, writes its plot there; none prints.

    plain_vs_residual   gradient at the first conv at initialisation and training loss
                        after a fixed budget, plain vs residual CNNs of the 6n+2 family
    attention_scale     softmax entropy and gradient against d_k, attention logits with
                        and without the 1/sqrt(d_k) scale
    rnn_gradient_norms  ||dh_T/dh_0|| against T for tanh RNNs by spectral radius and for
                        LSTMs, and an exploding RNN trained with and without clipping
"""
from .attention_scale import attention_scale
from .plain_vs_residual import plain_vs_residual
from .rnn_gradients import rnn_gradient_norms

__all__ = ["attention_scale", "plain_vs_residual", "rnn_gradient_norms"]
