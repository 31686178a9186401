"""lab.oversmoothing: the Dirichlet energy and the cosine distance against their
definitions, the energy of untrained GCN embeddings falling with depth (and of P^k X),
the untrained depth-L models matching the deep one's first L layers, bit-identical reruns,
the plot and the CLI."""
import numpy as np
import pytest

from nnlab import cli
from nnlab.lab import oversmoothing
from nnlab.lab.oversmoothing import dirichlet_energy, gcn_propagation, mean_cosine_distance


def _needs_cora():
    from nnlab.graph.datasets.planetoid import find_raw_files
    try:
        find_raw_files(None, "Cora")
    except FileNotFoundError as e:
        pytest.skip(f"the Planetoid raw files are absent: {str(e).splitlines()[0]}")


@pytest.fixture(scope="module")
def untrained(tmp_path_factory):
    _needs_cora()
    return oversmoothing(depths=(2, 8), epochs=0, runs=1, out=tmp_path_factory.mktemp("lab"))


def test_the_energy_and_the_distance_by_their_definitions():
    edges = np.array([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])    # the path 0-1-2-3
    p = gcn_propagation(edges, 4).toarray()
    deg = np.array([2.0, 3.0, 3.0, 2.0])                           # degrees with self-loops
    np.testing.assert_allclose(p, (np.eye(4) + np.eye(4, k=1) + np.eye(4, k=-1))
                               / np.sqrt(np.outer(deg, deg)))
    x = np.random.default_rng(0).standard_normal((4, 3))
    by_edges = sum(((x[i] / np.sqrt(deg[i]) - x[j] / np.sqrt(deg[j])) ** 2).sum()
                   for i, j in edges.T) / (2 * (x ** 2).sum())
    assert dirichlet_energy(x, gcn_propagation(edges, 4)) == pytest.approx(by_edges)
    smooth = np.sqrt(deg)[:, None] * np.array([[1.0, -2.0]])      # P's eigenvalue-1 span
    assert dirichlet_energy(smooth, gcn_propagation(edges, 4)) == pytest.approx(0, abs=1e-12)
    assert dirichlet_energy(np.zeros((4, 2)), gcn_propagation(edges, 4)) == 0.0
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    cos = u @ u.T
    brute = 1 - (cos.sum() - 4) / 12
    assert mean_cosine_distance(np.vstack([x, np.zeros((1, 3))])) == pytest.approx(brute)
    assert mean_cosine_distance(np.ones((5, 2))) == pytest.approx(0, abs=1e-12)


def test_untrained_embeddings_lose_energy_with_depth(untrained):
    u = untrained["untrained"]
    assert u["layers"] == list(range(1, 9))
    for kind in ("plain", "residual"):
        assert u[kind][7] < u[kind][1] / 5 and u[kind][1] < u[kind][0]   # far smoother
    assert u["plain"][7] < u["residual"][7]                    # the shortcut slows it
    prop = u["propagation"]
    assert len(prop) == 9 and all(b < a for a, b in zip(prop, prop[1:]))
    assert prop[8] < prop[0] / 20


def test_untrained_models_of_each_depth_are_the_deep_ones_first_layers(untrained):
    # epochs=0: the depth-L model is the first L convs of the depth-8 model (same seed)
    for i, depth in enumerate(untrained["depths"]):
        for kind in ("plain", "residual"):
            assert untrained["energy"][kind][i][0] == pytest.approx(
                untrained["untrained"][kind][depth - 1], rel=1e-6)
    with open(untrained["plot"], "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_runs_are_bit_identical_for_a_seed():
    _needs_cora()
    a, b = (oversmoothing(depths=(2,), epochs=2, runs=1, seed=3) for _ in range(2))
    assert a == b


def test_cli(capsys):
    _needs_cora()
    assert cli.main(["lab", "oversmoothing", "--depths", "2", "--epochs", "1", "--runs",
                     "1"]) == 0
    out = capsys.readouterr().out
    assert "test accuracy (plain): depth 2 " in out and "energy of P^k X" in out
