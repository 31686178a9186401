"""Checkpoint files: round trip, exact resume, corrupt and truncated files, atomic writes."""
import io as io_
import os
import pickle

import numpy as np
import pytest

import nnlab
from nnlab import optim, train
from nnlab.train import checkpoint as ckpt
from nnlab.utils import io
from tests.train.common import params, tiny_loaders, tiny_model, tiny_setup


def trained(epochs=1):
    model, loss_fn, opt, train_loader, val_loader = tiny_setup(optimizer="adam", lr=0.01,
                                                               dropout=0.2)
    train.fit(model, loss_fn, opt, train_loader, epochs=epochs)
    return model, opt, train_loader


def test_round_trip_of_model_optimizer_scheduler_rng_and_extra(tmp_path):
    model, opt, loader = trained()
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=7)
    sched.step()
    extra = {"note": "hi", "values": [1.5, float("nan"), None, (1, 2)], 3: {"deep": True},
             "array": np.arange(3.0)}
    path = train.save_checkpoint(tmp_path / "c.npz", model, opt, sched, epoch=3, step=12,
                                 loader=loader, extra=extra)
    rng_state = nnlab.get_rng_state()
    expected_opt = opt.state_dict()

    model2 = tiny_model(seed=5, dropout=0.2)
    opt2 = optim.Adam(model2.parameters(), lr=0.5)
    sched2 = optim.lr_scheduler.CosineAnnealingLR(opt2, T_max=7)
    loader2, _ = tiny_loaders(generator=42)
    nnlab.manual_seed(99)
    state = train.load_checkpoint(path, model2, opt2, sched2, loader=loader2)

    assert (state.epoch, state.step) == (3, 12)
    for k, v in params(model).items():
        np.testing.assert_array_equal(params(model2)[k], v)
    got = opt2.state_dict()
    assert got["param_groups"] == expected_opt["param_groups"]
    for i, s in expected_opt["state"].items():
        for k, v in s.items():
            np.testing.assert_array_equal(np.asarray(got["state"][i][k]), np.asarray(v))
    assert sched2.state_dict() == sched.state_dict()
    assert nnlab.get_rng_state() == rng_state
    assert loader2.generator.bit_generator.state == loader.generator.bit_generator.state
    assert state.extra["note"] == "hi" and state.extra[3] == {"deep": True}
    assert state.extra["values"][0] == 1.5 and np.isnan(state.extra["values"][1])
    assert state.extra["values"][2:] == [None, (1, 2)]
    np.testing.assert_array_equal(state.extra["array"], np.arange(3.0))


def test_the_file_is_numeric_arrays_only(tmp_path):
    model, opt, loader = trained()
    path = train.save_checkpoint(tmp_path / "c.npz", model, opt, loader=loader)
    with np.load(path, allow_pickle=False) as z:
        assert all(z[k].dtype.kind in "fiub" for k in z.files)
        assert "model/0.weight" in z.files and "__meta__" in z.files


def test_unsaveable_state_is_a_clear_error(tmp_path):
    model = tiny_model()
    with pytest.raises(TypeError, match=r"cannot save extra\['f'\] of type function"):
        train.save_checkpoint(tmp_path / "c.npz", model, extra={"f": lambda: 0})
    assert not os.listdir(tmp_path)


def resume_setup(seed):
    """Seeded shuffled loader, dropout, Adam and a per-step scheduler."""
    model, loss_fn, opt, train_loader, val_loader = tiny_setup(
        seed=seed, optimizer="adam", lr=0.02, dropout=0.3, generator=seed)
    sched = optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.7)
    return model, loss_fn, opt, train_loader, val_loader, sched


@pytest.mark.parametrize("interval", ["epoch", "step"])
def test_resume_equals_an_uninterrupted_run_exactly(tmp_path, interval):
    model, loss_fn, opt, train_loader, val_loader, sched = resume_setup(seed=0)
    straight = train.fit(model, loss_fn, opt, train_loader, val_loader, epochs=3,
                         callbacks=[train.LRSchedulerCallback(sched, interval)])
    expected, expected_rng = params(model), nnlab.get_rng_state()

    model, loss_fn, opt, train_loader, val_loader, sched = resume_setup(seed=0)
    train.fit(model, loss_fn, opt, train_loader, val_loader, epochs=1,
              callbacks=[train.LRSchedulerCallback(sched, interval),
                         train.ModelCheckpoint(tmp_path)])

    # fresh objects, built from other seeds: everything must come from the checkpoint
    model, loss_fn, opt, train_loader, val_loader, sched = resume_setup(seed=7)
    resumed = train.fit(model, loss_fn, opt, train_loader, val_loader, epochs=3,
                        callbacks=[train.LRSchedulerCallback(sched, interval)],
                        resume=tmp_path / "last.npz")
    for k, v in expected.items():
        np.testing.assert_array_equal(params(model)[k], v, err_msg=k)
    assert nnlab.get_rng_state() == expected_rng
    assert resumed["epoch"] == [1, 2, 3]
    assert resumed["loss"] == straight["loss"] and resumed["lr"] == straight["lr"]
    assert resumed["step"] == straight["step"]


@pytest.mark.parametrize("seeded", ["loader", "sampler"])
def test_resume_with_an_int_seeded_loader(tmp_path, seeded):
    def run(epochs, resume=None, seed=0):
        model, loss_fn, opt, _, _ = tiny_setup(seed=seed, dropout=0.3)
        from nnlab.data import DataLoader, RandomSampler
        data = tiny_loaders()[0].dataset
        loader = (DataLoader(data, batch_size=16, shuffle=True, generator=seed + 11)
                  if seeded == "loader" else   # the sampler's own stream, made from its seed
                  DataLoader(data, batch_size=16,
                             sampler=RandomSampler(data, generator=seed + 11)))
        train.fit(model, loss_fn, opt, loader, epochs=epochs, resume=resume,
                  callbacks=[train.ModelCheckpoint(tmp_path, save_best=False)])
        return params(model)

    expected = run(2)
    run(1)
    got = run(2, resume=tmp_path / "last.npz", seed=3)
    for k, v in expected.items():
        np.testing.assert_array_equal(got[k], v)


@pytest.mark.parametrize("damage, error, message", [
    ("truncate", ckpt.CheckpointError, r"c\.npz is truncated or corrupt"),
    ("flip", ckpt.CheckpointError, r"c\.npz is truncated or corrupt"),
    ("empty", ckpt.CheckpointError, r"c\.npz is truncated or corrupt"),
    ("garbage", ckpt.NotACheckpointError, r"c\.npz is not an nnlab checkpoint \(\.npz\): it "
                                          r"starts with b'this is not a ch'"),
    ("pickle", ckpt.NotACheckpointError, r"c\.npz is not an nnlab checkpoint \(\.npz\): it "
                                         r"starts with b'\\x80\\x04"),
    ("other npz", ckpt.NotACheckpointError, r"c\.npz is not an nnlab checkpoint \(\.npz\): a "
                                            r"zip archive of 1 arrays without nnlab's __meta__"),
])
def test_corrupt_or_truncated_file_is_a_clear_error_and_nothing_changes(tmp_path, damage,
                                                                        error, message):
    model, opt, loader = trained()
    path = tmp_path / "c.npz"
    train.save_checkpoint(path, model, opt, loader=loader)
    data = path.read_bytes()
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "flip":
        data = bytearray(data)
        start = data.index(b"model/0.weight") + 200    # inside the first array's bytes
        data[start:start + 16] = bytes(16)
        data = bytes(data)
    elif damage == "garbage":
        data = b"this is not a checkpoint at all"
    elif damage == "pickle":
        data = pickle.dumps({"model": [1, 2]}, protocol=4)
    elif damage == "other npz":
        buffer = io_.BytesIO()
        np.savez(buffer, weights=np.zeros(3))
        data = buffer.getvalue()
    else:
        data = b""
    path.write_bytes(data)

    model2 = tiny_model(seed=3, dropout=0.2)
    opt2 = optim.Adam(model2.parameters(), lr=0.01)
    before, rng = params(model2), nnlab.get_rng_state()
    with pytest.raises(error, match=message):
        train.load_checkpoint(path, model2, opt2, loader=loader)
    assert path.read_bytes() == data                    # the file is left as it was
    for k, v in before.items():
        np.testing.assert_array_equal(params(model2)[k], v)
    assert nnlab.get_rng_state() == rng and not opt2.state


def test_a_checkpoint_of_another_model_is_an_error_before_any_change(tmp_path):
    model, opt, _ = trained()
    path = train.save_checkpoint(tmp_path / "c.npz", model, opt)
    other = tiny_model(hidden=8)
    before = params(other)
    with pytest.raises(train.CheckpointError, match=r"0\.weight: shape \(16, 4\) in the file, "
                                                    r"\(8, 4\) in the model"):
        train.load_checkpoint(path, other)
    for k, v in before.items():
        np.testing.assert_array_equal(params(other)[k], v)
    with pytest.raises(train.CheckpointError, match="no such file"):
        train.load_checkpoint(tmp_path / "missing.npz", model)


def test_a_checkpoint_of_another_optimizer_is_an_error_before_any_change(tmp_path):
    model = tiny_model()
    sgd = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    path = train.save_checkpoint(tmp_path / "c.npz", model, sgd)
    other = tiny_model(seed=1)
    adam = optim.Adam(other.parameters(), lr=0.1)
    before = params(other)
    with pytest.raises(train.CheckpointError, match=r"c\.npz holds the state of another "
                       r"optimizer: its settings are \[.*'momentum'.*\], this Adam's are "
                       r"\[.*'amsgrad'"):
        train.load_checkpoint(path, other, adam)
    for k, v in before.items():
        np.testing.assert_array_equal(params(other)[k], v)


def test_a_failure_mid_write_leaves_the_old_file(tmp_path, monkeypatch):
    model, opt, loader = trained()
    path = tmp_path / "last.npz"
    train.save_checkpoint(path, model, opt, epoch=1)
    old = path.read_bytes()

    def fail_half_way(f, **arrays):
        f.write(b"PK\x03\x04 partial zip ...")
        raise OSError("disk full")

    monkeypatch.setattr(ckpt.np, "savez", fail_half_way)
    with pytest.raises(OSError, match="disk full"):
        train.save_checkpoint(path, model, opt, epoch=2)
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == ["last.npz"]         # the temporary file is gone
    monkeypatch.undo()
    assert train.read_checkpoint(path).epoch == 1


def test_a_failed_rename_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "f.txt"
    path.write_text("old")

    def no_rename(src, dst):
        raise OSError("rename failed")

    monkeypatch.setattr(io.os, "replace", no_rename)
    with pytest.raises(OSError, match="rename failed"):
        io.atomic_write(path, lambda f: f.write("new"), mode="w")
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["f.txt"]
