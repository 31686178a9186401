"""The run report: PNGs and index.html."""
import json
import os

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


def test_dead_units_are_plotted_per_activation_with_its_name(tmp_path, monkeypatch):
    layers = [{"0": {"type": "Linear", "dead_fraction": 0.25, "dead_activation": "1 (ReLU)"},
               "2": {"type": "Linear", "dead_fraction": 0.5},    # names no activation: left out
               "relu": {"type": "ReLU", "dead_fraction": 0.1, "dead_activation": "relu (ReLU)"}},
              {"0": {"type": "Linear", "dead_fraction": 0.75, "dead_activation": "1 (ReLU)"},
               "2": {"type": "Linear", "act_std": 1.0}}]
    steps = [{"step": s, "layers": r, "params": {}} for s, r in zip((1, 51), layers)]
    assert report.dead_unit_series(steps) == {"1 (ReLU) after 0": ([1, 51], [0.25, 0.75]),
                                              "relu (ReLU)": ([1], [0.1])}
    legends = {}
    save = report._save

    def keep_labels(fig, ax, path):
        legends[os.path.basename(path)] = ax.get_legend_handles_labels()[1]
        save(fig, ax, path)

    monkeypatch.setattr(report, "_save", keep_labels)
    assert "dead_units" in report.write_plots(str(tmp_path), [], steps)
    assert legends["dead_units.png"] == ["1 (ReLU) after 0", "relu (ReLU)"]
    assert (tmp_path / "dead_units.png").read_bytes().startswith(PNG)


def test_very_large_losses_show_in_scientific_notation(tmp_path):
    lines = [{"kind": "epoch", "epoch": 1, "loss": 3.2e8, "val_loss": 0.5}]
    (tmp_path / "metrics.jsonl").write_text("\n".join(json.dumps(r) for r in lines))
    train.write_report(tmp_path)
    html = (tmp_path / "index.html").read_text()
    assert "3.2e+08" in html and "320000000" not in html
