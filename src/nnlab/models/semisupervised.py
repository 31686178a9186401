"""M2, the semi-supervised VAE of Kingma, Rezende, Mohamed and Welling (2014): the label is
a latent variable, observed for a few examples and inferred for the rest.

Generative model, for C classes and L latent dimensions:

    p(y) = 1 / C (uniform),   p(z) = N(0, I),   p(x | y, z) = Bernoulli(decoder(y, z))

Inference model:

    q(y | x) = softmax(classifier(x))                       # the classifier we keep
    q(z | x, y) = N(mu(x, y), diag(exp(logvar(x, y))))

Labelled examples (x, y): the bound log p(x, y) >= -L(x, y), one z ~ q(z | x, y):

    L(x, y) = -log p(x | y, z) - log p(y) + KL(q(z | x, y) || N(0, I))
    KL = -1/2 sum_l (1 + logvar_l - mu_l^2 - exp(logvar_l))

Unlabelled examples x: y summed out under q(y | x), log p(x) >= -U(x):

    U(x) = sum_y q(y | x) L(x, y) - H(q(y | x)),   H(q) = -sum_y q(y | x) log q(y | x)

The training objective (`SemiSupervisedLoss`), averaged per example over a labelled batch
and an unlabelled one: mean L(x_l, y_l) + mean U(x_u) + alpha * mean -log q(y_l | x_l).
The last term gives the classifier a gradient from the labels themselves (without it
q(y | x) learns only through U).

Shapes: x (N, D) in [0, 1] (images are flattened); y (N,) class indices; the table of
L(x, y) for every y is (N, C), computed with y's contribution to the first hidden layer
of encoder and decoder added to a shared x (or z) term, so x goes through the encoder's
first layer once, not C times.
"""
import math

from .. import nn, ops
from ..autograd.grad_mode import no_grad
from ..nn import functional as F


class SemiSupervisedVAE(nn.Module):
    """M2 with MLPs: classifier D -> classifier_hidden -> C (ReLU, dropout before the last
    Linear); encoder [x, y] -> hidden -> (mu, logvar) of latent_dim; decoder [y, z] ->
    hidden -> D Bernoulli logits (ReLU hidden layers).

    The one-hot y enters a first layer as its own bias-free Linear (encoder_y, decoder_y),
    added to the Linear of x (encoder_x) or z (decoder_z): the same as one Linear on the
    concatenation [x, y].

    forward(x_l, y_l, x_u, eps_l=None, eps_u=None) -> (logits_l (N_l, C), L(x_l, y_l) (N_l,),
    logits_u (N_u, C), L(x_u, y) for every y (N_u, C)): what `SemiSupervisedLoss` needs.
    `forward` takes x_l and y_l first so that a batch (x_l, y_l, x_u, target) has its
    labelled examples where metrics look (logits_l against target y_l).
    State_dict keys: classifier.*, encoder_x.*, encoder_y.*, mu.*, logvar.*, decoder_z.*,
    decoder_y.*, decoder_out.*."""

    def __init__(self, in_features=784, hidden=256, latent_dim=32, num_classes=10,
                 classifier_hidden=None, classifier_dropout=0.0):
        super().__init__()
        classifier_hidden = hidden if classifier_hidden is None else classifier_hidden
        self.in_features, self.hidden, self.latent_dim = in_features, hidden, latent_dim
        self.num_classes = num_classes
        self.classifier = nn.Sequential(nn.Linear(in_features, classifier_hidden), nn.ReLU(),
                                        nn.Dropout(classifier_dropout),
                                        nn.Linear(classifier_hidden, num_classes))
        self.encoder_x = nn.Linear(in_features, hidden)
        self.encoder_y = nn.Linear(num_classes, hidden, bias=False)
        self.mu = nn.Linear(hidden, latent_dim)
        self.logvar = nn.Linear(hidden, latent_dim)
        self.decoder_z = nn.Linear(latent_dim, hidden)
        self.decoder_y = nn.Linear(num_classes, hidden, bias=False)
        self.decoder_out = nn.Linear(hidden, in_features)

    # -- checks -----------------------------------------------------------------------------
    def _images(self, x, what):
        """x as (N, D): images (N, 1, 28, 28) flattened; a clear error for other shapes."""
        if x.ndim > 2:
            x = x.flatten(1)
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"SemiSupervisedVAE(in_features={self.in_features}): {what} must "
                             f"be (N, {self.in_features}) or images with {self.in_features} "
                             f"pixels, got shape {tuple(x.shape)}")
        return x

    def _labels(self, y, n):
        if tuple(y.shape) != (n,) or y.dtype.kind not in "iu":
            raise ValueError(f"SemiSupervisedVAE: labels must be integer class indices of "
                             f"shape ({n},) (one per labelled image), got {y.dtype} "
                             f"{tuple(y.shape)}")
        values = y.numpy()
        if values.size and (values.min() < 0 or values.max() >= self.num_classes):
            raise ValueError(f"SemiSupervisedVAE(num_classes={self.num_classes}): labels must "
                             f"lie in [0, {self.num_classes - 1}], got values from "
                             f"{values.min()} to {values.max()}")
        return y.long()

    # -- the pieces -------------------------------------------------------------------------
    def classify(self, x):
        """Logits of q(y | x), (N, C)."""
        return self.classifier(self._images(x, "x"))

    def _bound(self, x, hx, hy_enc, hy_dec, eps):
        """L(x, y) from the first-layer terms: hx = encoder_x(x) broadcast against hy_enc
        (y's encoder term), hy_dec likewise for the decoder; x shaped to broadcast against
        the decoder's output. Returns L over the leading dims of hx + hy_enc."""
        h = (hx + hy_enc).relu()                           # (..., hidden)
        mu, logvar = self.mu(h), self.logvar(h)            # (..., L)
        if eps is None:
            eps = ops.randn_like(mu)
        if tuple(eps.shape) != tuple(mu.shape):
            raise ValueError(f"SemiSupervisedVAE: eps must be {tuple(mu.shape)} (one draw of "
                             f"z per example and label), got {tuple(eps.shape)}")
        z = mu + (0.5 * logvar).exp() * eps                # reparameterised z ~ q(z | x, y)
        logits = self.decoder_out((self.decoder_z(z) + hy_dec).relu())     # (..., D)
        nll = F.binary_cross_entropy_with_logits(logits, x.expand(*logits.shape),
                                                 reduction="none").sum(-1)  # -log p(x|y,z)
        kl = -0.5 * (1 + logvar - mu * mu - logvar.exp()).sum(-1)
        return nll + kl + math.log(self.num_classes)       # -log p(y) = log C

    def labelled_bound(self, x, y, eps=None):
        """L(x, y) per example, (N,): x (N, D), y (N,) class indices; eps (N, L) or None."""
        x = self._images(x, "x")
        y = self._labels(y, x.shape[0])
        onehot = F.one_hot(y, self.num_classes).to(x.dtype)          # (N, C)
        return self._bound(x, self.encoder_x(x), self.encoder_y(onehot),
                           self.decoder_y(onehot), eps)

    def bound_table(self, x, eps=None):
        """L(x, y) for every class y, (N, C); eps (N, C, L) or None (drawn)."""
        x = self._images(x, "x")
        eye = ops.eye(self.num_classes, dtype=x.dtype)                # (C, C)
        hx = self.encoder_x(x).unsqueeze(1)                           # (N, 1, hidden)
        return self._bound(x.unsqueeze(1), hx, self.encoder_y(eye),   # + (C, hidden)
                           self.decoder_y(eye), eps)                  # -> (N, C)

    @staticmethod
    def unlabelled_from(logits, table):
        """U(x) per example, (N,), from q(y | x)'s logits (N, C) and the table L(x, y) (N, C):
        sum_y q(y | x) L(x, y) - H(q(y | x))."""
        log_q = F.log_softmax(logits, dim=1)
        q = log_q.exp()
        return (q * (table + log_q)).sum(1)    # sum q L + sum q log q = sum q L - H

    def unlabelled_bound(self, x, eps=None):
        """U(x) per example, (N,); eps (N, C, L) or None."""
        return self.unlabelled_from(self.classify(x), self.bound_table(x, eps))

    def forward(self, x_l, y_l, x_u, eps_l=None, eps_u=None):
        return (self.classify(x_l), self.labelled_bound(x_l, y_l, eps_l),
                self.classify(x_u), self.bound_table(x_u, eps_u))

    def sample(self, y, eps=None):
        """Bernoulli means p(x | y, z) at z ~ N(0, I) (or `eps`), one per label in y: (N, D)."""
        with no_grad():
            onehot = F.one_hot(y, self.num_classes).to(self.mu.weight.dtype)
            if eps is None:
                eps = ops.randn(y.shape[0], self.latent_dim, dtype=onehot.dtype)
            return self.decoder_out((self.decoder_z(eps) + self.decoder_y(onehot)).relu()
                                    ).sigmoid()


class SemiSupervisedLoss(nn.Module):
    """The M2 objective on a SemiSupervisedVAE's forward output (logits_l, L_l, logits_u,
    table_u) and the labels y_l (N_l,):

        mean L(x_l, y_l) + mean U(x_u) + alpha * mean cross_entropy(logits_l, y_l)

    alpha: the weight of the classification term. Kingma et al. use alpha = 0.1 N with J
    summed over the N examples and the classification term an expectation over the labelled
    ones; with per-example means over equal labelled and unlabelled batches that ratio is
    alpha = 0.1 N / N_labelled (see the ss-mnist recipe)."""

    def __init__(self, alpha):
        super().__init__()
        self.alpha = alpha

    def terms(self, output, y_l):
        """(loss, labelled bound mean, unlabelled bound mean, cross-entropy mean)."""
        if not isinstance(output, (tuple, list)) or len(output) != 4:
            raise ValueError("SemiSupervisedLoss: expected a SemiSupervisedVAE's output "
                             "(logits_l, L_l, logits_u, table_u), got "
                             f"{type(output).__name__}")
        logits_l, bound_l, logits_u, table_u = output
        labelled = bound_l.mean()
        unlabelled = SemiSupervisedVAE.unlabelled_from(logits_u, table_u).mean()
        ce = F.cross_entropy(logits_l, y_l)
        return labelled + unlabelled + self.alpha * ce, labelled, unlabelled, ce

    def forward(self, output, y_l):
        return self.terms(output, y_l)[0]
