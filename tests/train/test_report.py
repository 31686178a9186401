"""The run report: PNGs and index.html."""
import json

import pytest

from nnlab import train
from nnlab.train import report
from nnlab.utils import io
from tests.train.common import tiny_setup

PNG = b"\x89PNG\r\n\x1a\n"


def test_report_writes_valid_pngs_and_an_index(tmp_path):
    model, loss_fn, opt, train_loader, val_loader = tiny_setup()
    train.fit(model, loss_fn, opt, train_loader, val_loader, epochs=3, diagnostics_every=2,
              run_dir=tmp_path)
    (tmp_path / "run.json").write_text(json.dumps({"recipe": "tiny", "seed": 0}))
    index = train.write_report(tmp_path)
    assert index == str(tmp_path / "index.html")
    for name in report.PLOTS:
        data = (tmp_path / f"{name}.png").read_bytes()
        assert data.startswith(PNG) and len(data) > 1000, name
    html = (tmp_path / "index.html").read_text()
    for name in report.PLOTS:
        assert f"<img src='{name}.png'" in html
    assert "Final metrics (epoch 3)" in html and "val_accuracy" in html
    assert "<td>tiny</td>" in html


def test_report_from_csv_only_and_without_diagnostics(tmp_path):
    model, loss_fn, opt, train_loader, _ = tiny_setup()
    train.fit(model, loss_fn, opt, train_loader, epochs=2, diagnostics_every=0,
              run_dir=tmp_path)
    (tmp_path / "metrics.jsonl").unlink()
    train.write_report(tmp_path)
    written = sorted(p.name for p in tmp_path.glob("*.png"))
    assert written == ["accuracy.png", "loss.png"]


def test_report_of_an_empty_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="expected metrics.jsonl or metrics.csv"):
        train.write_report(tmp_path)


def test_resumed_records_replace_the_ones_after_the_checkpoint(tmp_path):
    lines = [{"kind": "epoch", "epoch": 1, "loss": 1.0}, {"kind": "epoch", "epoch": 2,
             "loss": 9.0}, {"kind": "epoch", "epoch": 2, "loss": 0.5}]
    (tmp_path / "metrics.jsonl").write_text("\n".join(json.dumps(r) for r in lines))
    epochs, steps, errors = report.read_metrics(tmp_path)
    assert [e["loss"] for e in epochs] == [1.0, 0.5] and steps == [] and errors == []


def test_a_failed_png_write_leaves_the_old_plot(tmp_path, monkeypatch):
    model, loss_fn, opt, train_loader, _ = tiny_setup()
    train.fit(model, loss_fn, opt, train_loader, epochs=2, diagnostics_every=0,
              run_dir=tmp_path)
    (tmp_path / "loss.png").write_bytes(b"old")

    def no_rename(src, dst):
        raise OSError("rename failed")

    monkeypatch.setattr(io.os, "replace", no_rename)
    with pytest.raises(OSError, match="rename failed"):
        train.write_report(tmp_path)
    assert (tmp_path / "loss.png").read_bytes() == b"old"
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
