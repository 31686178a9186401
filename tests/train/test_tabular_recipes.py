"""The classifier and regressor recipes end to end through `nnlab.cli.main`: a CSV file
(an MLP), an image folder and NPZ images (a small CNN), the run directory, a held-out metric
on problems easy by construction, resume keeping --target, and the refusals."""
import json

import numpy as np
import pytest

import nnlab
from nnlab import cli, nn
from nnlab.train import recipes
from nnlab.train import run as run_lib
from nnlab.train.recipes.tabular import Standardize, small_cnn

RUN_FILES = ("run.json", "best.npz", "last.npz", "metrics.csv", "metrics.jsonl",
             "results.json", "index.html", "loss.png")


def separable_csv(path, n=400, seed=0):
    """label,f1,f2,f3 rows: label 'yes' when w.x > 0, every point at least 1 from the plane
    (|w.x| >= 1 with |w| = 1), features on scales 1, 100 and 0.01."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((4 * n, 3))
    w = np.array([2.0, -1.0, 2.0]) / 3
    x = x[np.abs(x @ w) >= 1][:n]
    label = np.where(x @ w > 0, "yes", "no")
    scaled = x * [1, 100, 0.01]
    rows = [f"{lab},{a:.6g},{b:.6g},{c:.6g}" for lab, (a, b, c) in zip(label, scaled)]
    path.write_text("label,f1,f2,f3\n" + "\n".join(rows) + "\n")
    return path


def linear_tsv(path, n=500, seed=0):
    """f1 f2 price rows (tab separated): price = 1000 + 300 f1 - 200 f2 + noise (std 10)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 2))
    y = 1000 + 300 * x[:, 0] - 200 * x[:, 1] + 10 * rng.standard_normal(n)
    rows = [f"{a:.6g}\t{b:.6g}\t{c:.6g}" for (a, b), c in zip(x, y)]
    path.write_text("f1\tf2\tprice\n" + "\n".join(rows) + "\n")
    return path


def train(*args):
    return cli.main(["train", *args, "--no-progress", "--diagnostics-every", "5"])


def read(run, name):
    return json.loads((run / name).read_text())


def test_classifier_on_a_csv_file(tmp_path, capsys):
    data, run = separable_csv(tmp_path / "x.csv"), tmp_path / "run"
    assert train("classifier", "--data", str(data), "--target", "label", "--epochs", "2",
                 "--out", str(run)) == 0
    assert all((run / name).is_file() for name in RUN_FILES + ("accuracy.png",))
    settings = read(run, "run.json")
    assert settings["options"]["target"] == "label" and settings["classes"] == ["no", "yes"]
    assert (settings["train"], settings["held_out"]) == (320, 80)
    assert "Standardize(shape=(3,))" in settings["model"] and "Conv2d" not in settings["model"]
    held = read(run, "results.json")["held_out"]
    assert held["samples"] == 80 and held["accuracy"] > 0.9
    assert "held-out accuracy" in capsys.readouterr().out


def test_resume_keeps_the_target(tmp_path, capsys, monkeypatch):
    data, run = separable_csv(tmp_path / "x.csv", n=100), tmp_path / "run"

    def interrupt_epoch_2(self, trainer, epoch):   # Ctrl-C once epoch 1 is checkpointed
        if epoch == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(cli.PrintEpochs, "on_epoch_begin", interrupt_epoch_2)
    assert train("classifier", "--data", str(data), "--target", "label", "--epochs", "3",
                 "--out", str(run)) == 130
    monkeypatch.undo()
    assert run_lib.saved_options(run / "last.npz")[1].target == "label"
    # without the saved target the last column (floats, all distinct) would be refused
    assert train("--resume", str(run / "last.npz")) == 0
    assert read(run, "run.json")["options"]["target"] == "label"
    assert read(run, "results.json")["held_out"]["accuracy"] > 0.9
    assert "epoch 3/3" in capsys.readouterr().out


def test_regressor_on_a_tsv_file(tmp_path, capsys):
    data, run = linear_tsv(tmp_path / "prices.tsv"), tmp_path / "run"
    assert train("regressor", "--data", str(data), "--target", "price", "--epochs", "3",
                 "--out", str(run)) == 0
    assert all((run / name).is_file() for name in RUN_FILES)
    held = read(run, "results.json")["held_out"]
    assert held["samples"] == 100 and held["r2"] > 0.9
    assert held["mse"] == pytest.approx(held["loss"], rel=1e-4) and held["mae"] > 0
    out = capsys.readouterr().out
    assert "held-out MSE" in out and "R^2" in out


def test_classifier_on_an_image_folder(tmp_path, capsys):
    image = pytest.importorskip("PIL.Image", reason="Pillow is not installed")
    rng = np.random.default_rng(0)
    for label, level in (("dark", 40), ("light", 215)):
        (tmp_path / "images" / label).mkdir(parents=True)
        for i in range(20):
            pixels = np.clip(level + rng.normal(0, 20, (8, 8)), 0, 255).astype(np.uint8)
            image.fromarray(pixels).save(tmp_path / "images" / label / f"{i}.png")
    run = tmp_path / "run"
    assert train("classifier", "--data", str(tmp_path / "images"), "--epochs", "2", "--out",
                 str(run)) == 0
    settings = read(run, "run.json")
    assert settings["classes"] == ["dark", "light"] and settings["images"] == "1x8x8"
    assert "Conv2d(1, 16" in settings["model"]
    assert all((run / name).is_file() for name in RUN_FILES)
    assert read(run, "results.json")["held_out"]["accuracy"] > 0.9   # 1.0 at seeds 0-9


@pytest.mark.parametrize("x_shape, conv", [((30, 6), False), ((30, 8, 8), True),
                                           ((30, 3, 8, 8), True)])
def test_the_network_follows_the_data_shape(tmp_path, x_shape, conv):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", x=rng.standard_normal(x_shape), y=np.arange(30) % 3)
    setup = recipes.build("classifier", recipes.Options(data=str(tmp_path / "d.npz")))
    layers = [type(m).__name__ for m in setup.model.modules()]
    assert ("Conv2d" in layers) == conv and isinstance(setup.model.standardize, Standardize)
    xb, yb = next(iter(setup.val_loader))
    assert tuple(setup.model(xb).shape) == (6, 3)


def test_standardize_and_its_inverse():
    x = nnlab.tensor([[1.0, 10.0], [3.0, 30.0]])
    forward = Standardize([2.0, 20.0], [1.0, 10.0])
    np.testing.assert_allclose(forward(x).numpy(), [[-1, -1], [1, 1]])
    back = Standardize([2.0, 20.0], [1.0, 10.0], inverse=True)
    np.testing.assert_allclose(back(forward(x)).numpy(), x.numpy())
    assert set(forward.state_dict()) == {"mean", "std"}


@pytest.mark.parametrize("size, pools", [((8, 8), 2), ((28, 28), 3), ((200, 300), 4),
                                         ((1, 5), 0)])
def test_small_cnn_sizes(size, pools):
    model = small_cnn(2, 4, size)
    assert sum(isinstance(m, nn.MaxPool2d) for m in model.modules()) == pools
    if max(size) <= 28:
        assert tuple(model(nnlab.zeros(2, 2, *size)).shape) == (2, 4)


def refusals(tmp_path):
    csv, tsv = separable_csv(tmp_path / "x.csv", n=40), linear_tsv(tmp_path / "y.tsv", n=40)
    (tmp_path / "one.csv").write_text("a,y\n1,k\n2,k\n3,k\n4,k\n5,k\n6,k\n")
    (tmp_path / "few.csv").write_text("a,y\n1,0\n2,1\n")
    (tmp_path / "folder" / "cat").mkdir(parents=True)
    return [
        (["classifier"], "classifier: --data is required: a CSV, TSV or NPZ file"),
        (["classifier", "--data", str(tmp_path / "nope.csv")], "no such file or folder"),
        (["classifier", "--data", str(csv)],   # the target: f3; label is a feature
         "feature column 0 ('label') holds 'no' on line 2, not a finite number"),
        (["classifier", "--data", str(tsv)],   # the last column: 40 distinct floats
         "has 40 distinct values in 40 rows, too many for classes; is --target the right"),
        (["classifier", "--data", str(csv), "--target", "colour"], "no column 'colour'"),
        (["classifier", "--data", str(tmp_path / "one.csv")], "holds one class ('k')"),
        (["classifier", "--data", str(tmp_path / "few.csv")], "2 rows of data; expected at "
         "least 5"),
        (["regressor", "--data", str(csv), "--target", "label"],
         "holds 'no' on line 2; regression needs finite numbers"),
        (["regressor", "--data", str(tmp_path / "folder")], "is a folder; an image folder"),
        (["classifier", "--data", str(tmp_path / "folder"), "--target", "y"],
         "--target y names a column of a CSV"),
    ]


def test_bad_data_is_refused_before_anything_is_written(tmp_path, capsys):
    for args, message in refusals(tmp_path):
        run = tmp_path / "run"
        assert train(*args, "--out", str(run)) == 1, args
        err = capsys.readouterr().err
        assert message in err and not run.exists(), (args, err)
