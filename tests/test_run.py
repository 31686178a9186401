"""`nnlab run SCRIPT.py ARGS...`: PyTorch programs run with nnlab standing in for torch,
through `python -m nnlab.run` in a fresh process and through `cli.main` in this one; the
torch namespaces they import; the errors for what nnlab does not provide."""
import importlib.util
import os
import subprocess
import sys
import textwrap

import pytest

import nnlab
from nnlab import cli
from nnlab.run import RENAMES, TorchFinder, nnlab_name

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TRAIN = """\
import sys
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from helper import WIDTH   # a module beside the script: its folder is first on sys.path

torch.manual_seed(0)
torch.backends.cudnn.benchmark = True
x = torch.randn(128, 4)
y = (x.sum(1) > 0).long()
model = nn.Sequential(nn.Linear(4, WIDTH), nn.ReLU(), nn.Linear(WIDTH, 2))
optimizer = torch.optim.SGD(model.parameters(), lr=float(sys.argv[2]))
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=5, gamma=0.5)
loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)
losses = []
for epoch in range(10):
    total = 0.0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(xb)
    scheduler.step()
    losses.append(total / len(x))
import nnlab.backends.cudnn
print("argv", sys.argv[1:])
print("tensor", type(x).__module__, type(model).__module__)
print("cudnn.benchmark", nnlab.backends.cudnn.benchmark)
print(f"loss {losses[0]:.4f} -> {losses[-1]:.4f}")
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def run_module(*args, cwd=None):
    """`python -m nnlab.run ARGS` in a fresh process: (exit status, stdout, stderr)."""
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "src"))
    done = subprocess.run([sys.executable, "-m", "nnlab.run", *args], capture_output=True,
                          text=True, cwd=cwd or ROOT, env=env, timeout=300)
    return done.returncode, done.stdout, done.stderr


def losses(out):
    first, last = out.split("loss ")[1].split(" -> ")
    return float(first), float(last)


def test_a_training_script_runs_in_a_fresh_process(tmp_path):
    script = write(tmp_path, "train.py", TRAIN)
    write(tmp_path, "helper.py", "WIDTH = 16\n")
    status, out, err = run_module(script, "--lr", "0.5", "--", "-x", cwd=tmp_path)
    assert status == 0, err
    assert "argv ['--lr', '0.5', '--', '-x']" in out
    assert "tensor nnlab.autograd.tensor nnlab.nn.container" in out
    assert "cudnn.benchmark True" in out   # a stand-in writes through to nnlab's flag
    first, last = losses(out)
    assert last < 0.5 * first


def test_a_training_script_runs_in_process_beside_a_real_torch(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    assert sys.modules["torch"] is torch
    script = write(tmp_path, "train.py", TRAIN)
    write(tmp_path, "helper.py", "WIDTH = 8\n")
    argv, path, cudnn = sys.argv[:], sys.path[:], nnlab.backends.cudnn.benchmark
    try:
        assert cli.main(["run", script, "--lr", "0.5"]) == 0
    finally:
        nnlab.backends.cudnn.benchmark = cudnn
        sys.modules.pop("helper", None)
    out = capsys.readouterr().out
    assert "argv ['--lr', '0.5']" in out and "tensor nnlab.autograd.tensor" in out
    first, last = losses(out)
    assert last < 0.5 * first
    assert sys.modules["torch"] is torch and sys.modules["torch.nn"] is torch.nn
    assert not any(isinstance(f, TorchFinder) for f in sys.meta_path)
    assert sys.argv == argv and sys.path == path


def test_the_exit_status_is_the_programs(tmp_path, capsys):
    assert cli.main(["run", write(tmp_path, "a.py", "import sys\nsys.exit(3)\n")]) == 3
    assert cli.main(["run", write(tmp_path, "b.py", "raise SystemExit\n")]) == 0
    assert cli.main(["run", write(tmp_path, "c.py", "import sys\nsys.exit('bad')\n")]) == 1
    assert capsys.readouterr().err == "bad\n"
    with pytest.raises(ZeroDivisionError):   # the program's own error, with its traceback
        cli.main(["run", write(tmp_path, "d.py", "1 / 0\n")])


def test_every_argument_after_the_script_is_the_programs(tmp_path, capsys):
    script = write(tmp_path, "argv.py", "import sys\nprint(sys.argv)\n")
    assert cli.main(["run", script, "--epochs", "3", "-h", "--", "x", "--version"]) == 0
    assert capsys.readouterr().out == \
        f"{[script, '--epochs', '3', '-h', '--', 'x', '--version']}\n"


def test_a_missing_script_is_a_usage_error(tmp_path, capsys):
    missing = str(tmp_path / "nope.py")
    assert cli.main(["run", missing]) == 2
    assert f"nnlab run: error: {missing}: no such file" in capsys.readouterr().err
    status, _, err = run_module(missing)
    assert status == 2 and f"{missing}: no such file" in err
    status, _, err = run_module()
    assert status == 2 and "usage: nnlab run SCRIPT.py" in err and "is missing" in err
    assert cli.main(["run"]) == 2
    assert "the program to run (SCRIPT.py) is missing" in capsys.readouterr().err


MISSING = """\
import torch
import torch.nn as nn
for attempt in ("torch.frobnicate", "nn.Frobnicate", "from torch import frobnicate",
                "from torch.nn.functional import frobnicate", "import torch.frobnicate",
                "import torch.utils.frobnicate"):
    try:
        exec(compile(attempt, __file__ + ":" + attempt, "exec"))
    except (AttributeError, ImportError) as e:
        print(type(e).__name__, e)
print("hasattr", hasattr(torch, "frobnicate"), getattr(torch.nn, "Frobnicate", None))
torch.nn.functional.frobnicate
"""


def test_what_nnlab_lacks_is_named_with_the_programs_line(tmp_path, capsys):
    script = write(tmp_path, "missing.py", MISSING)
    with pytest.raises(AttributeError) as raised:
        cli.main(["run", script])
    assert str(raised.value) == f"nnlab does not provide torch.nn.functional.frobnicate " \
                                f"(used at {script}:11)"
    lines = capsys.readouterr().out.splitlines()
    where = [f"(used at {script}:{a}:1)" for a in (
        "torch.frobnicate", "nn.Frobnicate", "from torch import frobnicate",
        "from torch.nn.functional import frobnicate", "import torch.frobnicate",
        "import torch.utils.frobnicate")]
    assert lines == [
        f"AttributeError nnlab does not provide torch.frobnicate {where[0]}",
        f"AttributeError nnlab does not provide torch.nn.Frobnicate {where[1]}",
        f"ImportError nnlab does not provide torch.frobnicate {where[2]}",
        f"ImportError nnlab does not provide torch.nn.functional.frobnicate {where[3]}",
        f"ModuleNotFoundError nnlab does not provide torch.frobnicate {where[4]}",
        f"ModuleNotFoundError nnlab does not provide torch.utils.frobnicate {where[5]}",
        "hasattr False None"]


# the torch namespaces programs import, and the nnlab module each stands for
NAMESPACES = {
    "torch": "nnlab", "torch.nn": "nnlab.nn", "torch.nn.functional": "nnlab.nn.functional",
    "torch.nn.init": "nnlab.nn.init", "torch.nn.utils": "nnlab.nn.utils",
    "torch.nn.parallel": "nnlab.nn.parallel", "torch.optim": "nnlab.optim",
    "torch.optim.lr_scheduler": "nnlab.optim.lr_scheduler", "torch.autograd": "nnlab.autograd",
    "torch.utils.data": "nnlab.data", "torch.utils.data.distributed": "nnlab.data.sampler",
    "torch.utils.tensorboard": "nnlab.utils.tensorboard", "torch.distributed": "nnlab.distributed",
    "torch.amp": "nnlab.amp", "torch.cuda": "nnlab.cuda", "torch.cuda.amp": "nnlab.cuda.amp",
    "torch.backends": "nnlab.backends", "torch.backends.cudnn": "nnlab.backends.cudnn",
    "torch.distributions": "nnlab.distributions", "torch.onnx": "nnlab.onnx",
    "torch.sparse": "nnlab.sparse", "torch.nn.modules.loss": "nnlab.nn.loss",
}


def test_each_torch_namespace_has_its_nnlab_module():
    assert {name: nnlab_name(name) for name in NAMESPACES} == NAMESPACES
    assert nnlab_name("torch.utils.data.dataloader") == "nnlab.data.dataloader"
    assert all(nnlab_name(torch) == ours for torch, ours in RENAMES.items())
    with pytest.raises(ValueError, match="not a torch module name"):
        nnlab_name("numpy")


IMPORT_ALL = """\
import importlib, importlib.util, sys
for name, ours in {namespaces!r}.items():
    if importlib.util.find_spec(ours) is None:   # not written yet: the clear error
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as e:
            assert str(e).startswith(f"nnlab does not provide {{name}} (used at "), e
            continue
        raise AssertionError(name)
    module = importlib.import_module(name)
    assert module is sys.modules[name] and module.__name__ == name, name
    assert module._nnlab_module is importlib.import_module(ours), name
import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler, TensorDataset, random_split
from torch.utils.data.distributed import DistributedSampler as DS
from torch.nn.parallel import DistributedDataParallel
from torch.utils.tensorboard import SummaryWriter
assert DS is DistributedSampler and torch.nn.DataParallel.__module__ == "nnlab.nn.parallel"
assert torch.utils.data.DataLoader is DataLoader and torch.optim.lr_scheduler.StepLR
assert torch.distributed.get_world_size() == 1 and isinstance(torch.zeros(1), torch.Tensor)
print("ok", "nn" in dir(torch))
"""


def test_the_namespaces_programs_import_resolve_to_nnlab(tmp_path):
    script = write(tmp_path, "imports.py", IMPORT_ALL.format(namespaces=NAMESPACES))
    status, out, err = run_module(script)
    assert status == 0, err
    assert out == "ok True\n"


def test_import_nnlab_leaves_torch_alone():
    code = ("import sys, nnlab, nnlab.run, nnlab.cli\n"
            "assert 'torch' not in sys.modules, 'torch imported'\n"
            "assert not any(type(f).__name__ == 'TorchFinder' for f in sys.meta_path)\n")
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "src"))
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env, timeout=300)


def test_the_hook_is_gone_after_the_run(tmp_path, capsys):
    script = write(tmp_path, "t.py", "import torch\nprint(torch)\n")
    torch_before = sys.modules.get("torch")
    assert cli.main(["run", script]) == 0
    assert capsys.readouterr().out == "<module 'torch': nnlab's nnlab>\n"
    assert sys.modules.get("torch") is torch_before
    assert not any(isinstance(f, TorchFinder) for f in sys.meta_path)
    assert importlib.util.find_spec("nnlab.run") is not None


LEGACY = """\
import torch
from torch import Tensor
w = torch.nn.Parameter(torch.Tensor(3, 4))
print(type(w).__name__, tuple(w.shape), w.dtype, float(w.abs().sum()))
print(isinstance(w, torch.Tensor), isinstance(torch.ones(2, dtype=torch.int64), Tensor),
      isinstance(3, Tensor), issubclass(torch.nn.Parameter, torch.Tensor))
print(torch.Tensor([1, 2]).dtype, tuple(torch.Tensor().shape), torch.Tensor.add is not None)
"""


def test_torch_tensor_is_the_legacy_constructor_and_the_type(tmp_path, capsys):
    assert cli.main(["run", write(tmp_path, "legacy.py", LEGACY)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Parameter (3, 4) float32 0.0", "True True False True", "float32 (0,) True"]


def test_factories_take_size_as_a_keyword():
    assert nnlab.empty(size=(2, 3)).shape == (2, 3) == nnlab.zeros(size=[2, 3]).shape
    assert nnlab.ones(size=(4,)).shape == (4,) == nnlab.randn(size=(4,)).shape
    assert nnlab.rand(size=(1, 2)).shape == (1, 2)
    with pytest.raises(TypeError, match="got the shape twice"):
        nnlab.zeros(2, size=(2,))
