"""Autoencoders on MNIST: vae-mnist and ae-mnist.

    vae-mnist   the VAE of pytorch/examples (MLP 784-400-L, Bernoulli likelihood on grey
                values in [0, 1], Adam 1e-3, batch 128) on the 8,000 / 2,000 MNIST split.
                The loss is the negative ELBO, with its two terms (recon, kl) per epoch;
                after training, the held-out negative ELBO and the IWAE bound (K = 100) in
                nats, and pictures: samples from the prior, reconstructions beside their
                inputs, and for L = 2 the latent map coloured by digit and the decoded
                manifold grid.
    ae-mnist    one hidden layer of 128 sigmoid code units, a linear decoder to logits, the
                binary cross-entropy: --kind plain, sparse (KL to rho = 0.05), denoising
                (masking noise, 30% of pixels) or contractive (lambda ||J_f||_F^2, one
                Rademacher probe per step). After training: reconstruction error, code
                sparsity, contraction ||J_f||_F and the error on masked inputs, all held
                out; pictures of reconstructions and of the code units' weights.
"""
import numpy as np

from ... import nn
from ...autograd.grad_mode import no_grad
from ...autograd.tensor import Tensor
from ...data import DataLoader, TensorDataset
from ...models import VAE, Autoencoder
from ...nn import functional as F
from ...utils.images import save_image
from ...utils.io import atomic_write
from . import Setup, make_optimizer, mnist_split, register

IWAE_SAMPLES = 100
AE_KINDS = ("plain", "sparse", "denoising", "contractive")
NEAR_ZERO = 0.05    # a sigmoid code unit below this counts as off
MASKED = 0.3        # the fraction of pixels the denoising AE (and its test) zeroes


def mnist_autoencoding(options):
    """((x_val, y_val), loaders of (x, x) pairs, info): grey MNIST as (N, 784) in [0, 1],
    the recipes' fixed 8,000 / 2,000 split, training batches shuffled by the seed."""
    (x_train, _), (x_val, y_val), folder = mnist_split(options.data)
    train = TensorDataset(Tensor(x_train), Tensor(x_train))
    val = TensorDataset(Tensor(x_val), Tensor(x_val))
    loaders = (DataLoader(train, batch_size=options.batch_size, shuffle=True,
                          generator=np.random.default_rng(options.seed)),
               DataLoader(val, batch_size=500))
    info = {"data": f"MNIST t10k from {folder}, grey values in [0, 1]",
            "train": len(x_train), "held_out": len(x_val)}
    return (x_val, y_val), loaders, info


def _images(x):
    return np.asarray(x).reshape(-1, 1, 28, 28)


# -- vae-mnist ----------------------------------------------------------------------------------
def iwae_nats(model, x, k=IWAE_SAMPLES, batch=50):
    """Mean over the rows of x of -log p(x) estimated by the IWAE bound with k samples."""
    with no_grad():
        bounds = [model.iwae_bound(Tensor(x[i:i + batch]), k).numpy()
                  for i in range(0, len(x), batch)]
    return float(-np.concatenate(bounds).astype(np.float64).mean())


def vae_pictures(model, x_val, y_val, run_dir):
    """samples.png (64 from the prior), reconstructions.png (inputs above their
    reconstructions), and for a 2-D latent latent_map.png and manifold.png."""
    model.eval()
    pictures = {"samples from the prior N(0, I)": "samples.png",
                "held-out digits (odd rows) and their reconstructions (even rows)":
                    "reconstructions.png"}
    save_image(_images(model.sample(64).numpy()), f"{run_dir}/samples.png")
    inputs = x_val[:32]
    recon = model.reconstruct(Tensor(inputs)).numpy()
    pairs = np.stack([inputs.reshape(4, 8, -1), recon.reshape(4, 8, -1)], 1)  # row pairs
    save_image(_images(pairs), f"{run_dir}/reconstructions.png")
    if model.latent_dim == 2:
        with no_grad():
            mu = model.encode(Tensor(x_val))[0].numpy()
        pictures["the held-out digits' latent means, coloured by digit"] = _latent_map(
            mu, y_val, f"{run_dir}/latent_map.png")
        pictures["decoded grid over the prior's quantiles (5% to 95%)"] = _manifold(
            model, f"{run_dir}/manifold.png")
    return pictures


def _latent_map(mu, labels, path):
    from matplotlib.figure import Figure
    fig = Figure(figsize=(6.5, 5.5), dpi=100)
    ax = fig.subplots()
    points = ax.scatter(mu[:, 0], mu[:, 1], c=labels, cmap="tab10", s=6, vmin=-0.5,
                        vmax=9.5)
    fig.colorbar(points, ax=ax, ticks=range(10), label="digit")
    ax.set_xlabel("z_1")
    ax.set_ylabel("z_2")
    ax.set_title("latent means mu(x), held out")
    fig.tight_layout()
    atomic_write(path, lambda f: fig.savefig(f, format="png"))
    return "latent_map.png"


def _manifold(model, path, n=15):
    from scipy.stats import norm
    steps = norm.ppf(np.linspace(0.05, 0.95, n))          # N(0, 1) quantiles
    z = np.stack(np.meshgrid(steps, steps[::-1]), -1).reshape(-1, 2).astype(np.float32)
    with no_grad():
        images = model.decode(Tensor(z)).sigmoid().numpy()
    save_image(_images(images), path, nrow=n, padding=0)
    return "manifold.png"


@register("vae-mnist", "VAE (MLP 784-400-20, Bernoulli) on MNIST's 10,000 test images from "
          "--data DIR (8,000 train / 2,000 held out); ELBO, IWAE, samples", epochs=30,
          lr=1e-3, batch_size=128, optimizer="adam", seed=0, latent_dim=20)
def vae_mnist(options):
    (x_val, y_val), (train_loader, val_loader), info = mnist_autoencoding(options)
    model = VAE(784, 400, options.latent_dim)

    def loss(output, x):
        return model.elbo_terms(output, x)[0]

    def recon(output, x):
        return float(model.neg_log_likelihood(output[0], x).sum().item()), x.shape[0]

    def kl(output, x):
        return float(model.kl_to_prior(*output[1:]).sum().item()), x.shape[0]

    def after(model, callbacks=(), note=None):
        model.eval()
        figures = {"iwae_k": IWAE_SAMPLES, "iwae_nats": iwae_nats(model, x_val)}
        return figures, [f"held-out -log p(x) by IWAE (K = {IWAE_SAMPLES}): "
                         f"{figures['iwae_nats']:.2f} nats (the negative ELBO is val_loss)"]

    optimizer = make_optimizer(options.optimizer, model.parameters(), options.lr)
    return Setup(model, loss, optimizer, train_loader, val_loader, options.epochs,
                 info={**info, "latent_dim": options.latent_dim, "likelihood": "bernoulli"},
                 metrics={"recon": recon, "kl": kl}, after=after,
                 pictures=lambda model, run_dir: vae_pictures(model, x_val, y_val, run_dir))


# -- ae-mnist -----------------------------------------------------------------------------------
class TrainedAutoencoder(Autoencoder):
    """An Autoencoder whose forward gives (objective, reconstruction) for `fit`: in training
    the reconstruction BCE of the clean x plus the kind's penalty (which needs the code and
    the encoder's input, so it is computed here, not from x_hat); in evaluation the clean
    reconstruction BCE twice. Its state_dict is an Autoencoder's."""

    def forward(self, x):
        if self.training:
            total, parts = self.loss(x, reconstruction="bce")
            return total, parts["reconstruction"]
        recon = F.binary_cross_entropy_with_logits(self.decode(self.encode(x)), x)
        return recon, recon


AE_SETTINGS = {"plain": {}, "sparse": {"sparsity": "kl", "rho": 0.05, "sparsity_weight": 0.1},
               "denoising": {"noise": "mask", "noise_level": MASKED},
               "contractive": {"contractive": 0.1, "probes": 1}}


def autoencoder(kind, latent_dim):
    """The ae-mnist model of `kind`: 784 -> latent_dim sigmoid code -> 784 logits."""
    if kind not in AE_KINDS:
        raise ValueError(f"ae-mnist: unknown --kind {kind!r}; expected one of {AE_KINDS}")
    encoder = nn.Sequential(nn.Linear(784, latent_dim), nn.Sigmoid())
    return TrainedAutoencoder(encoder, nn.Linear(latent_dim, 784), **AE_SETTINGS[kind])


def ae_figures(model, x, rng):
    """Held-out measures of a trained ae-mnist model on x (N, 784): reconstruction MSE and
    BCE per pixel, the fraction of code units below NEAR_ZERO, the mean ||J_f(x)||_F
    (closed form for the sigmoid code: J = diag(h (1 - h)) W), and the MSE of
    reconstructions of masked inputs (MASKED of the pixels zeroed) against the clean x."""
    model.eval()
    weight = model.encoder[0].weight.detach().numpy().astype(np.float64)            # (m, 784)
    masked = x * (rng.random(x.shape) >= MASKED)
    with no_grad():
        code = model.encode(Tensor(x))
        h = code.numpy().astype(np.float64)                                 # (N, m)
        logits = model.decode(code)
        bce = float(F.binary_cross_entropy_with_logits(logits, Tensor(x)).item())
        x_hat = logits.sigmoid().numpy()
        x_hat_masked = model.decode(model.encode(Tensor(masked))).sigmoid().numpy()
    jacobian_sq = ((h * (1 - h)) ** 2) @ (weight ** 2).sum(1)               # ||J||_F^2, (N,)
    return {"recon_mse": float(np.mean((x_hat - x) ** 2)), "recon_bce": bce,
            "code_near_zero": float(np.mean(h < NEAR_ZERO)),
            "jacobian_frobenius": float(np.mean(np.sqrt(jacobian_sq))),
            "masked_recon_mse": float(np.mean((x_hat_masked - x) ** 2))}


def ae_pictures(model, kind, x, rng, run_dir):
    """reconstructions.png (inputs, masked inputs for the denoising kind, reconstructions)
    and features.png (the first 64 code units' weights as 28x28 images)."""
    model.eval()
    inputs = x[:16]
    if kind == "denoising":
        inputs = inputs * (rng.random(inputs.shape) >= MASKED)
    with no_grad():
        recon = model.decode(model.encode(Tensor(inputs))).sigmoid().numpy()
    rows = [x[:16], inputs, recon] if kind == "denoising" else [x[:16], recon]
    save_image(_images(np.stack([r.reshape(2, 8, -1) for r in rows], 1)),
               f"{run_dir}/reconstructions.png")
    weights = model.encoder[0].weight.detach().numpy()[:64]
    save_image(_images(weights), f"{run_dir}/features.png", normalize=True, scale_each=True)
    what = "inputs, masked inputs, reconstructions" if kind == "denoising" else \
        "inputs, reconstructions"
    return {f"{kind} AE on held-out digits: {what} (rows)": "reconstructions.png",
            "the first 64 code units' input weights": "features.png"}


@register("ae-mnist", "autoencoder 784-128-784 on MNIST's 10,000 test images from --data DIR "
          "(8,000 train / 2,000 held out): --kind plain, sparse, denoising, contractive",
          epochs=20, lr=1e-3, batch_size=128, optimizer="adam", seed=0, kind="plain",
          latent_dim=128)
def ae_mnist(options):
    (x_val, _), (train_loader, val_loader), info = mnist_autoencoding(options)
    model = autoencoder(options.kind, options.latent_dim)

    def after(model, callbacks=(), note=None):
        figures = ae_figures(model, x_val, np.random.default_rng(options.seed))
        return figures, [
            f"held-out reconstruction: MSE {figures['recon_mse']:.5f}, BCE "
            f"{figures['recon_bce']:.4f} per pixel",
            f"code units below {NEAR_ZERO}: {100 * figures['code_near_zero']:.1f}%",
            f"contraction ||J_f(x)||_F: {figures['jacobian_frobenius']:.3f} (mean)",
            f"reconstructing inputs with {MASKED:.0%} of pixels masked: MSE "
            f"{figures['masked_recon_mse']:.5f} against the clean digits"]

    optimizer = make_optimizer(options.optimizer, model.parameters(), options.lr)
    return Setup(model, lambda output, x: output[0], optimizer, train_loader, val_loader,
                 options.epochs, info={**info, "kind": options.kind, **AE_SETTINGS[
                     options.kind]},
                 metrics={"recon": lambda output, x: (float(output[1].item()) * x.shape[0],
                                                      x.shape[0])},
                 after=after,
                 pictures=lambda model, run_dir: ae_pictures(
                     model, options.kind, x_val, np.random.default_rng(options.seed),
                     run_dir))

