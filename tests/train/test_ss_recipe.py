"""The ss-mnist recipe: the labelled examples it picks, its batches, its refusals, and a tiny
run end to end (M2 trained, then pixels, M1 and M2 compared over two seeds)."""
import json

import numpy as np
import pytest

from nnlab.train import recipes
from nnlab.train.recipes import Options
from nnlab.train.recipes import semisupervised as ss
from nnlab.train.run import RunRefused, run_recipe
from tests.train.tiny import HAS_MNIST, MNIST_DIR, SmallMNIST

needs_mnist = pytest.mark.skipif(not HAS_MNIST, reason=f"the MNIST test images are not in "
                                 f"{MNIST_DIR} (see ../shared/data/README.md)")


def test_the_labelled_examples_are_balanced_and_fixed():
    y = np.repeat(np.arange(10), 30)[np.random.default_rng(3).permutation(300)]
    chosen = ss.choose_labelled(y, 50)
    assert len(chosen) == 50 and len(set(chosen)) == 50
    assert np.bincount(y[chosen], minlength=10).tolist() == [5] * 10
    np.testing.assert_array_equal(chosen, ss.choose_labelled(y, 50))       # seed-free
    assert not np.array_equal(chosen, ss.choose_labelled(y, 50, seed=1))


@pytest.mark.parametrize("labels, match", [
    (95, r"--labels 95; expected a multiple of 10"),
    (5, r"--labels 5; expected a multiple of 10 .* at least 10"),
    (310, r"--labels 310 asks for 31 per class, but the training split has only 30 of class "
          r"\d; expected at most 300 labels")])
def test_bad_label_counts_are_refused(labels, match):
    y = np.repeat(np.arange(10), 30)
    with pytest.raises(ValueError, match=match):
        ss.choose_labelled(y, labels)


def test_batches_pair_every_unlabelled_image_with_labelled_ones():
    x_u = np.arange(25, dtype=np.float32).reshape(25, 1)
    x_l, y_l = np.arange(100, 104, dtype=np.float32).reshape(4, 1), np.array([0, 1, 2, 3])
    pairs = ss.LabelledPairs(x_u, x_l, y_l, 10, np.random.default_rng(0))
    batches = list(pairs)
    assert len(pairs) == len(batches) == 3
    seen = np.concatenate([b[2].numpy()[:, 0] for b in batches])
    np.testing.assert_array_equal(np.sort(seen), x_u[:, 0])                 # one pass
    for xl, yl, _, target in batches:
        assert xl.shape == (10, 1)
        np.testing.assert_array_equal(xl.numpy()[:, 0] - 100, yl.numpy())  # rows kept together
        assert target is yl


def test_ss_mnist_is_registered_with_100_labels():
    d = recipes.get("ss-mnist").defaults
    assert d.labels == 100 and None not in (d.epochs, d.lr, d.batch_size, d.optimizer, d.seed)


TINY = ss.Sizes(m2_hidden=8, m2_latent=2, classifier_hidden=16, m1_hidden=8, m1_latent=2,
                m1_epochs=1, classifier_steps=5, neighbours=3)


@needs_mnist
def test_bad_labels_refused_before_anything_is_written(tmp_path, monkeypatch):
    monkeypatch.setattr(recipes, "MNIST", SmallMNIST)
    for labels in (55, 10_000):
        with pytest.raises(ValueError, match=f"ss-mnist: --labels {labels}"):
            run_recipe("ss-mnist", Options(data=str(MNIST_DIR), labels=labels),
                       run_dir=tmp_path / "run", progress=False)
    with pytest.raises(RunRefused, match="labels=0: expected an integer >= 1"):
        run_recipe("ss-mnist", Options(data=str(MNIST_DIR), labels=0),
                   run_dir=tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


@needs_mnist
def test_a_tiny_run_compares_the_three_methods(tmp_path, monkeypatch):
    monkeypatch.setattr(recipes, "MNIST", SmallMNIST)        # 300 training images, 2,000 held out
    monkeypatch.setattr(ss, "SIZES", TINY)
    monkeypatch.setattr(ss, "SEEDS", 2)
    notes = []
    result = run_recipe("ss-mnist", Options(data=str(MNIST_DIR), labels=20, epochs=1,
                                            batch_size=100, seed=3),
                        run_dir=tmp_path, progress=False, note=notes.append, report=False)
    assert result.setup.info["labelled"] == 20 and result.setup.info["train"] == 300
    assert result.setup.info["alpha"] == pytest.approx(0.1 * 300 / 20)
    assert len(result.history) == 1 and {"loss", "val_loss", "val_accuracy"} <= set(
        result.history.last)
    with open(tmp_path / "results.json") as f:
        results = json.load(f)
    held = results["held_out"]
    assert list(results["pictures"].values()) == ["m2_samples.png"]
    assert (tmp_path / "m2_samples.png").stat().st_size > 1000
    assert held["seeds"] == [3, 4] and held["labels"] == 20
    for name in ("pixels", "pixels_spreading", "m1", "m1_spreading", "m2"):
        s = held["methods"][name]
        assert len(s["per_seed"]) == 2 and all(0 <= a <= 1 for a in s["per_seed"])
        assert s["mean"] == pytest.approx(np.mean(s["per_seed"]))
        assert s["std"] == pytest.approx(np.std(s["per_seed"], ddof=1))
    # M2 at --seed is the main run's model, measured as its held-out accuracy
    assert held["methods"]["m2"]["per_seed"][0] == pytest.approx(held["accuracy"])
    assert notes == ["seed 3: M1, a 1-epoch VAE on 300 unlabelled images, then a classifier "
                     "on mu(x)", "seed 4: M1, a 1-epoch VAE on 300 unlabelled images, then a "
                     "classifier on mu(x)", "seed 4: M2, a 1-epoch run"]
    assert result.lines[0].startswith("held-out accuracy from 20 labels, 2000 held out, "
                                      "seeds 3, 4")
    assert [line.split()[0] for line in result.lines[1:]] == ["MLP", "label", "M1:", "M1:", "M2:"]
