"""`python -m bench.vae_parity`: the vae-mnist recipe and the same VAE in torch, trained in
one run on the same MNIST split for each seed; held-out negative ELBO and IWAE (K = 100).

Not a timing: the two are trained from their own initialisations and random streams, so
they agree when the difference of their means is within the seed-to-seed spread. Both
sides: VAE 784-400-20 (pytorch/examples), Bernoulli likelihood on grey values, Adam 1e-3,
batch 128, the recipes' fixed 8,000 / 2,000 split of MNIST's t10k images; the negative
ELBO is one sample of z per held-out image, averaged.

    python -m bench.vae_parity --data ../shared/data/mnist --seeds 0 1 2 --epochs 30
"""
import argparse
import math
import statistics
import tempfile


def torch_vae_run(x_train, x_val, seed, epochs, batch_size=128, lr=1e-3, hidden=400,
                  latent=20, k=100):
    """Train torch's VAE on x_train (N, 784) in [0, 1]; (neg_elbo, iwae_nats) on x_val."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    torch.manual_seed(seed)
    d = x_train.shape[1]
    encoder, mu_layer, logvar_layer = nn.Linear(d, hidden), nn.Linear(hidden, latent), \
        nn.Linear(hidden, latent)
    decoder = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, d))
    layers = nn.ModuleList([encoder, mu_layer, logvar_layer, decoder])
    optimizer = torch.optim.Adam(layers.parameters(), lr=lr)

    def encode(x):
        h = F.relu(encoder(x))
        return mu_layer(h), logvar_layer(h)

    def neg_elbo(x):
        mu, logvar = encode(x)
        z = mu + (0.5 * logvar).exp() * torch.randn_like(mu)
        recon = F.binary_cross_entropy_with_logits(decoder(z), x, reduction="none").sum(1)
        kl = -0.5 * (1 + logvar - mu * mu - logvar.exp()).sum(1)
        return (recon + kl).mean()

    train = torch.from_numpy(x_train)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for batch in torch.randperm(len(train), generator=generator).split(batch_size):
            optimizer.zero_grad()
            loss = neg_elbo(train[batch])
            loss.backward()
            optimizer.step()
    val = torch.from_numpy(x_val)
    with torch.no_grad():
        elbo = float(neg_elbo(val))
        bounds = []
        for x in val.split(50):
            mu, logvar = encode(x)
            eps = torch.randn(k, *mu.shape)
            z = mu + (0.5 * logvar).exp() * eps                               # (K, N, L)
            log_px = -F.binary_cross_entropy_with_logits(
                decoder(z), x.expand(k, *x.shape), reduction="none").sum(2)
            log_pz = -0.5 * (z * z + math.log(2 * math.pi)).sum(2)
            log_qz = -0.5 * (eps * eps + logvar + math.log(2 * math.pi)).sum(2)
            bounds.append(torch.logsumexp(log_px + log_pz - log_qz, 0) - math.log(k))
        iwae = float(-torch.cat(bounds).double().mean())
    return elbo, iwae


def nnlab_vae_run(data, seed, epochs):
    """The vae-mnist recipe at `seed`: (held-out neg_elbo, iwae_nats)."""
    from nnlab.train import recipes
    from nnlab.train.run import run_recipe
    with tempfile.TemporaryDirectory() as run_dir:
        held = run_recipe("vae-mnist", recipes.Options(data=data, seed=seed, epochs=epochs),
                          run_dir=run_dir, progress=False, diagnostics_every=0,
                          report=False).held_out
    return held["loss"], held["iwae_nats"]


def _spread(values):
    return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.vae_parity",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="the MNIST folder (default: NNLAB_DATA or ../shared)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args(argv)
    from nnlab.train.recipes import mnist_split
    (x_train, _), (x_val, _), _ = mnist_split(args.data)
    rows = {"nnlab": [], "torch": []}
    print(f"VAE 784-400-20 on MNIST t10k ({len(x_train)} train / {len(x_val)} held out), "
          f"{args.epochs} epochs; held-out nats")
    print(f"{'seed':>4}  {'side':<6} {'-ELBO':>8} {'IWAE-100':>9}")
    for seed in args.seeds:
        rows["nnlab"].append(nnlab_vae_run(args.data, seed, args.epochs))
        rows["torch"].append(torch_vae_run(x_train, x_val, seed, args.epochs))
        for side in rows:
            elbo, iwae = rows[side][-1]
            print(f"{seed:>4}  {side:<6} {elbo:8.2f} {iwae:9.2f}", flush=True)
    for i, name in enumerate(("-ELBO", "IWAE-100")):
        (m1, s1), (m2, s2) = (_spread([r[i] for r in rows[side]]) for side in rows)
        print(f"{name:<9} nnlab {m1:.2f} +- {s1:.2f}   torch {m2:.2f} +- {s2:.2f}   "
              f"difference {m1 - m2:+.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
