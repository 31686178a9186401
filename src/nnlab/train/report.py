"""The run report: PNG plots of a run's metrics and an index.html that shows them.

`write_report(run_dir)` reads `run_dir/metrics.jsonl` (epoch, step and error records, see
callbacks.JSONLinesLogger; `metrics.csv` when there is no JSON-lines file) and
`run_dir/run.json` (the run's settings, if present) and writes:

    loss.png            train and validation loss per epoch (log scale)
    accuracy.png        train and validation accuracy per epoch (classification runs)
    grad_norm.png       gradient L2 norm per layer over steps (log scale)
    activation_std.png  standard deviation of each layer's output over steps
    update_ratio.png    ||delta w|| / ||w|| per layer over steps (log scale)
    dead_units.png      fraction of dead units (exactly 0 for the whole batch) of each
                        zero-clamping activation over steps, labelled with the activation
                        and the layer feeding it (records that name no activation,
                        written before the records did, are left out)
    METRIC.png          each further epoch metric of the recipe (a VAE's recon and kl),
                        train and validation
    index.html          the plots, the final metrics and the recipe's own pictures (listed
                        in results.json under 'pictures': a VAE's samples, reconstructions)

Plots are drawn on `matplotlib.figure.Figure` objects rendered by the Agg canvas, without
pyplot, so no display is needed and no global backend is changed; each PNG is written
atomically (a temporary file renamed over its path).
"""
import csv
import html
import json
import math
import os

from ..utils.io import atomic_write

PLOTS = ("loss", "accuracy", "grad_norm", "activation_std", "update_ratio", "dead_units")


def read_metrics(run_dir):
    """(epoch records, step records, error records) of a run directory."""
    jsonl = os.path.join(run_dir, "metrics.jsonl")
    csv_path = os.path.join(run_dir, "metrics.csv")
    epochs, steps, errors = [], [], []
    if os.path.exists(jsonl):
        with open(jsonl) as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as e:
                    raise ValueError(f"{jsonl}, line {n}: not JSON ({e})") from None
                kind = record.pop("kind", "epoch")
                {"epoch": epochs, "step": steps, "error": errors}.get(kind, []).append(record)
    elif os.path.exists(csv_path):
        with open(csv_path, newline="") as f:
            epochs = [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(f)]
    else:
        raise FileNotFoundError(f"report: no metrics in {run_dir} (expected metrics.jsonl or "
                                "metrics.csv, written by nnlab train or fit(run_dir=...))")
    return _last_run(epochs), _last_run(steps, "step"), errors


def _number(text):
    try:
        value = float(text)
    except (TypeError, ValueError):
        return text or None
    return int(value) if value.is_integer() and "." not in text else value


def _last_run(records, key="epoch"):
    """Keep, for each epoch (or step), the record written last: a run resumed from an
    earlier checkpoint appends records that replace those after the checkpoint."""
    kept = {}
    for r in records:
        kept[r.get(key)] = r
    return sorted(kept.values(), key=lambda r: (r.get(key) is None, r.get(key) or 0))


def _series(records, key):
    xs, ys = [], []
    for r in records:
        v = r.get(key)
        if isinstance(v, (int, float)) and math.isfinite(v):
            xs.append(r.get("epoch"))
            ys.append(v)
    return xs, ys


def _layer_series(steps, value):
    """{layer: (steps, values)} with value(record, layer) -> float or None."""
    layers = list(dict.fromkeys(name for r in steps for name in r.get("layers", {})))
    out = {}
    for layer in layers:
        xs, ys = [], []
        for r in steps:
            v = value(r, layer)
            if v is not None and math.isfinite(v):
                xs.append(r["step"])
                ys.append(v)
        if xs:
            out[layer] = (xs, ys)
    return out


def _layer_params(record, layer):
    return [p for name, p in record.get("params", {}).items()
            if p.get("layer", name.rsplit(".", 1)[0] if "." in name else name) == layer]


def _layer_grad_norm(record, layer):
    norms = [p.get("grad_norm") for p in _layer_params(record, layer)]
    norms = [n for n in norms if n is not None]
    return math.sqrt(sum(n * n for n in norms)) if norms else None


def _layer_update_ratio(record, layer):
    params = [p for p in _layer_params(record, layer)
              if p.get("update_ratio") is not None and p.get("weight_norm")]
    if not params:
        return None
    update = math.sqrt(sum((p["update_ratio"] * p["weight_norm"]) ** 2 for p in params))
    weight = math.sqrt(sum(p["weight_norm"] ** 2 for p in params))
    return update / weight


def _stat(key):
    return lambda record, layer: record.get("layers", {}).get(layer, {}).get(key)


def dead_unit_series(steps):
    """{label: (steps, dead fractions)} for every record that names its activation; the
    label is the activation, and the layer feeding it when that is another module:
    'layers.1 (ReLU) after layers.0'."""
    out = {}
    for r in steps:
        for layer, stats in r.get("layers", {}).items():
            v, activation = stats.get("dead_fraction"), stats.get("dead_activation")
            if activation is None or not isinstance(v, (int, float)) or not math.isfinite(v):
                continue
            own = activation.rsplit(" (", 1)[0] == layer
            xs, ys = out.setdefault(activation if own else f"{activation} after {layer}",
                                    ([], []))
            xs.append(r["step"])
            ys.append(v)
    return out


def _figure(title, xlabel, ylabel, log=False):
    from matplotlib.figure import Figure
    fig = Figure(figsize=(6.4, 4.0), dpi=100)
    ax = fig.add_subplot()
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    if log:
        ax.set_yscale("log")
    return fig, ax


def _save(fig, ax, path):
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small")
    fig.tight_layout()
    atomic_write(path, lambda f: fig.savefig(f, format="png"))


def _epoch_plot(epochs, keys, title, ylabel, path, log=False):
    lines = [(label, *_series(epochs, key)) for key, label in keys]
    lines = [line for line in lines if line[1]]
    if not lines:
        return False
    log = log and all(v > 0 for _, _, ys in lines for v in ys)
    fig, ax = _figure(title, "epoch", ylabel, log)
    for label, xs, ys in lines:
        ax.plot(xs, ys, marker="o" if len(xs) < 30 else None, label=label)
    _save(fig, ax, path)
    return True


def _step_plot(series, title, ylabel, path, log=False):
    if not series:
        return False
    if log and any(v <= 0 for _, ys in series.values() for v in ys):
        log = False
    fig, ax = _figure(title, "step", ylabel, log)
    for layer, (xs, ys) in series.items():
        ax.plot(xs, ys, label=layer)
    _save(fig, ax, path)
    return True


def write_plots(run_dir, epochs, steps):
    """Write the PNGs that the records allow; returns {plot name: file name}."""
    out = {}

    def path(name):
        out[name] = name + ".png"
        return os.path.join(run_dir, out[name])

    drawn = {
        "loss": _epoch_plot(epochs, [("loss", "train"), ("val_loss", "validation")],
                            "Loss", "loss", path("loss"), log=True),
        "accuracy": _epoch_plot(epochs, [("accuracy", "train"), ("val_accuracy", "validation")],
                                "Accuracy", "accuracy", path("accuracy")),
        "grad_norm": _step_plot(_layer_series(steps, _layer_grad_norm),
                                "Gradient L2 norm per layer", "||grad||", path("grad_norm"),
                                log=True),
        "activation_std": _step_plot(_layer_series(steps, _stat("act_std")),
                                     "Activation std per layer", "std of output",
                                     path("activation_std")),
        "update_ratio": _step_plot(_layer_series(steps, _layer_update_ratio),
                                   "Update-to-weight ratio per layer", "||dw|| / ||w||",
                                   path("update_ratio"), log=True),
        "dead_units": _step_plot(dead_unit_series(steps),
                                 "Dead units per ReLU-family activation (0 for the whole "
                                 "batch)", "fraction of units", path("dead_units")),
    }
    for key in recipe_metrics(epochs):
        drawn[key] = _epoch_plot(epochs, [(key, "train"), (f"val_{key}", "validation")],
                                 key.replace("_", " "), key, path(key))
    return {name: out[name] for name, ok in drawn.items() if ok}


_EPOCH_KEYS = {"epoch", "step", "loss", "accuracy", "lr", "time"}


def recipe_metrics(epochs):
    """The epoch metrics beyond loss and accuracy (a VAE's recon and kl, bits_per_char),
    each drawn as a plot of its own unless its name is one of PLOTS."""
    keys = dict.fromkeys(k for e in epochs for k in e)
    return [k for k in keys if k not in _EPOCH_KEYS and k not in PLOTS
            and not k.startswith("val_") and isinstance(epochs[-1].get(k), (int, float))]


def _pictures(run_dir):
    """{title: file} of the recipe's own PNGs, listed in results.json under 'pictures'."""
    path = os.path.join(run_dir, "results.json")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f).get("pictures") or {}


def _format(value):
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)


def _cell(value):
    text = html.escape(_format(value))
    return f"<pre>{text}</pre>" if "\n" in text else text


def _table(rows):
    cells = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{_cell(v)}</td></tr>"
                    for k, v in rows)
    return f"<table>{cells}</table>"


def _flat(settings):
    """(key, value) rows with nested dicts spelled out as parent.key."""
    for k, v in settings.items():
        if isinstance(v, dict):
            yield from ((f"{k}.{sub}", subv) for sub, subv in _flat(v))
        else:
            yield k, v


_STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 10px;
text-align:left}th{background:#f4f4f4}.plots{display:flex;flex-wrap:wrap;gap:12px}
.plots img{width:640px;max-width:100%;border:1px solid #eee}.error{color:#a00}pre{margin:0}"""


def _ended_on_error(run_dir):
    """Whether metrics.jsonl's last record is an error: a run resumed after a stop (Ctrl-C,
    a crash) appends records after the error, and then it no longer ended on it."""
    last = None
    with open(os.path.join(run_dir, "metrics.jsonl")) as f:
        for line in f:
            if line.strip():
                last = line
    return last is not None and json.loads(last).get("kind") == "error"


def write_report(run_dir):
    """Write the plots and index.html for `run_dir`; returns the path of index.html."""
    run_dir = os.fspath(run_dir)
    epochs, steps, errors = read_metrics(run_dir)
    plots = write_plots(run_dir, epochs, steps)
    settings = {}
    if os.path.exists(os.path.join(run_dir, "run.json")):
        with open(os.path.join(run_dir, "run.json")) as f:
            settings = json.load(f)
    title = f"nnlab run {os.path.basename(os.path.abspath(run_dir))}"
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
             f"</title><style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>"]
    if errors and _ended_on_error(run_dir):
        parts.append(f"<p class='error'>Training stopped: "
                     f"{html.escape(errors[-1].get('message', ''))}</p>")
    if epochs:
        parts.append(f"<h2>Final metrics (epoch {epochs[-1].get('epoch')})</h2>")
        parts.append(_table(epochs[-1].items()))
        if any(e.get("val_accuracy") is not None for e in epochs):
            best = max((e for e in epochs if e.get("val_accuracy") is not None),
                       key=lambda e: e["val_accuracy"])
            parts.append(f"<p>Best validation accuracy {best['val_accuracy']:.4f} at epoch "
                         f"{best.get('epoch')}.</p>")
    if settings:
        parts.append("<h2>Settings</h2>" + _table(_flat(settings)))
    parts.append("<h2>Plots</h2><div class='plots'>")
    parts += [f"<img src='{html.escape(file)}' alt='{html.escape(name)}'>"
              for name, file in plots.items()]
    parts.append("</div>")
    pictures = _pictures(run_dir)
    if pictures:
        parts.append("<h2>Pictures</h2><div class='plots'>")
        parts += [f"<figure><img src='{html.escape(file)}' alt='{html.escape(title)}'>"
                  f"<figcaption>{html.escape(title)}</figcaption></figure>"
                  for title, file in pictures.items()]
        parts.append("</div>")
    if len(epochs) > 1:
        keys = list(dict.fromkeys(k for e in epochs for k in e))
        head = "".join(f"<th>{html.escape(k)}</th>" for k in keys)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(_format(e.get(k)))}</td>"
                                        for k in keys) + "</tr>" for e in epochs)
        parts.append(f"<h2>All epochs</h2><table><tr>{head}</tr>{body}</table>")
    parts.append("</body></html>")
    index = os.path.join(run_dir, "index.html")
    page = "\n".join(parts).encode("utf-8")
    atomic_write(index, lambda f: f.write(page))
    return index
