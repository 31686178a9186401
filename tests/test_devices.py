"""Devices against torch's: `nnlab.device` (parsing, repr, str, equality, hashing, errors),
`Tensor.device` / `to` / `is_cuda`, `Module.to`, and torch's `cuda`, `accelerator`,
`backends` and `amp` names, which on a machine without a GPU behave as torch's CPU build."""
import copy
import pickle
import warnings

import numpy as np
import pytest

import nnlab
from nnlab import nn
from tests.helpers import requires_torch, torch

pytestmark = requires_torch
GPU = nnlab.cuda.is_available()
ANY_ERROR = (RuntimeError, AssertionError, TypeError, ValueError)
no_gpu = pytest.mark.skipif(GPU, reason="checks the behaviour without a GPU")


def raises_like_torch(ours, theirs, err, match):
    """Both raise (torch's own exception type may differ); ours names what it got."""
    with pytest.raises(ANY_ERROR):
        theirs()
    with pytest.raises(err, match=match):
        ours()


# -- nnlab.device -----------------------------------------------------------------------------
SPECS = [("cpu",), ("cuda",), ("cuda:0",), ("cuda:3",), ("cuda", 1), ("cpu", 0), ("cpu:0",),
         ("mps",), ("meta",)]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_device_parses_prints_and_compares_as_torch(spec):
    ours, theirs = nnlab.device(*spec), torch.device(*spec)
    assert (ours.type, ours.index) == (theirs.type, theirs.index)
    assert repr(ours) == repr(theirs) and str(ours) == str(theirs)
    assert nnlab.device(ours) is ours and nnlab.device(ours) == theirs.__str__()
    for other in SPECS:
        assert (ours == nnlab.device(*other)) == (theirs == torch.device(*other))


def test_device_equals_its_name_and_hashes_as_it():
    cpu = nnlab.device("cpu")
    assert cpu == "cpu" and cpu != "cuda" and "cpu" == cpu and cpu != "cpu:0"
    assert nnlab.device("cuda:0") != "cuda" and nnlab.device("cuda:0") == "cuda:0"
    assert cpu != 0 and cpu is not None
    assert {cpu: 1}["cpu"] == 1 and {"cuda:1": 2}[nnlab.device("cuda", 1)] == 2
    assert len({nnlab.device("cpu"), nnlab.device("cpu"), nnlab.device("cuda")}) == 2


def test_device_copies_pickles_and_is_read_only():
    d = nnlab.device("cuda", 2)
    assert pickle.loads(pickle.dumps(d)) == d and copy.deepcopy(d) == d
    with pytest.raises(AttributeError):
        d.index = 0


@pytest.mark.parametrize("args, err, match", [
    (("gpu",), RuntimeError, "device type at start of device string: gpu"),
    (("cuda:x",), RuntimeError, "invalid device string: 'cuda:x'"),
    (("cuda:-1",), RuntimeError, "invalid device string: 'cuda:-1'"),
    (("cuda:0", 1), RuntimeError, "must not include an index because index was passed"),
    (("cuda", -1), RuntimeError, "device index must not be negative"),
    ((1.5,), TypeError, "device: expected a device, a string such as 'cuda:0' or an int, got"),
])
def test_device_errors_as_torch(args, err, match):
    raises_like_torch(lambda: nnlab.device(*args), lambda: torch.device(*args), err, match)


@no_gpu
def test_device_from_an_index_needs_a_gpu():
    raises_like_torch(lambda: nnlab.device(0), lambda: torch.device(0), RuntimeError,
                      "cannot access accelerator device when none is available")


# -- Tensor.device and to ---------------------------------------------------------------------
def test_tensor_device_is_a_device():
    x = nnlab.ones(2)
    assert isinstance(x.device, nnlab.device) and repr(x.device) == "device(type='cpu')"
    assert x.device == "cpu" and x.device == torch.ones(2).device.__str__()
    assert (x.is_cpu, x.is_cuda) == (torch.ones(2).is_cpu, torch.ones(2).is_cuda)


TO_FORMS = [
    ((), {}), (("cpu",), {}), ((nnlab.float64,), {}), (("cpu", nnlab.float64), {}),
    ((nnlab.device("cpu"), nnlab.int64), {}), ((), dict(dtype=nnlab.float64, device="cpu")),
    (("cpu",), dict(non_blocking=True)), ((nnlab.float64, True, True), {}),
    ((nnlab.float32,), dict(copy=True)), (("cpu",), dict(copy=True)), ((), dict(copy=True)),
    (("cpu:0", nnlab.float16), dict(non_blocking=True, copy=False)),
]


def _torch_args(args, kwargs):
    conv = {np.dtype(d): getattr(torch, np.dtype(d).name) for d in ("float16", "float32",
                                                                    "float64", "int64")}
    def one(a):
        if isinstance(a, nnlab.device):
            return torch.device(str(a))
        return conv.get(a, a) if isinstance(a, np.dtype) else a
    return [one(a) for a in args], {k: one(v) for k, v in kwargs.items()}


@pytest.mark.parametrize("args, kwargs", TO_FORMS, ids=lambda v: repr(v)[:40])
def test_to_forms_as_torch(args, kwargs):
    x, tx = nnlab.tensor([1.5, -2.0]), torch.tensor([1.5, -2.0])
    y = x.to(*args, **kwargs)
    ty = tx.to(*_torch_args(args, kwargs)[0], **_torch_args(args, kwargs)[1])
    assert str(y.dtype) == str(ty.dtype).replace("torch.", "")
    assert y.device == str(ty.device)
    assert (y is x) == (ty is tx)
    np.testing.assert_array_equal(y.numpy().astype(np.float64), ty.double().numpy())


def test_to_other_tensor_takes_its_dtype_and_device():
    x = nnlab.tensor([1.0, 2.0], requires_grad=True)
    y = x.to(nnlab.zeros(1, dtype=nnlab.float64))
    assert y.dtype == np.float64 and y.device == "cpu"
    y.sum().backward()   # differentiable
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [1.0, 1.0]


def test_to_copy_true_is_a_differentiable_copy():
    x = nnlab.tensor([1.0, 2.0], requires_grad=True)
    y = x.to("cpu", copy=True)
    assert y is not x and y.grad_fn is not None
    assert not np.shares_memory(y.detach().numpy(), x.detach().numpy())
    (y * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


@pytest.mark.parametrize("args, err, match", [
    (("banana",), RuntimeError, "device type at start of device string: banana"),
    (("cpu", "cpu"), TypeError, "Tensor.to: unknown dtype 'cpu'"),
    ((nnlab.float32, "yes"), TypeError, r"Tensor.to: expected \(dtype\), \(device, dtype\)"),
])
def test_to_errors(args, err, match):
    with pytest.raises(err, match=match):
        nnlab.ones(2).to(*args)


def test_to_accepts_dtype_names_as_before():
    assert nnlab.ones(2).to("float64").dtype == np.float64


@no_gpu
def test_to_cuda_without_a_gpu_is_a_clear_error():
    with pytest.raises(RuntimeError, match="device 'cuda': cupy is not installed"):
        nnlab.ones(2).to("cuda")
    with pytest.raises(RuntimeError, match="device 'cuda:0': cupy is not installed"):
        nnlab.ones(2).cuda(0)
    with pytest.raises(RuntimeError, match="nnlab has no mps backend"):
        nnlab.ones(2).to("mps")
    with pytest.raises(RuntimeError, match="cupy is not installed"):
        nnlab.zeros(2, device="cuda")
    with pytest.raises(ANY_ERROR):
        torch.ones(2).to("cuda")


# -- Module.to --------------------------------------------------------------------------------
@pytest.mark.parametrize("args, kwargs, dtype", [
    (("cpu",), {}, np.float32), ((nnlab.float64,), {}, np.float64),
    (("cpu", nnlab.float64), {}, np.float64), ((nnlab.zeros(1, dtype=nnlab.float64),), {},
                                               np.float64),
    ((), dict(device=nnlab.device("cpu"), dtype=nnlab.float64, non_blocking=True), np.float64),
    ((nnlab.device("cpu"),), dict(non_blocking=True), np.float32),
])
def test_module_to_forms(args, kwargs, dtype):
    m = nn.Linear(2, 3)
    weight = m.weight
    assert m.to(*args, **kwargs) is m and m.weight is weight   # in place
    assert m.weight.dtype == dtype and m.bias.dtype == dtype and m.weight.device == "cpu"
    tm = torch.nn.Linear(2, 3)
    targs, tkwargs = _torch_args([a if not isinstance(a, nnlab.Tensor) else
                                  torch.zeros(1, dtype=torch.float64) for a in args], kwargs)
    assert str(tm.to(*targs, **tkwargs).weight.dtype) == f"torch.{np.dtype(dtype)}"


def test_module_to_integer_dtype_is_an_error_as_torch():
    raises_like_torch(lambda: nn.Linear(2, 2).to(nnlab.int64),
                      lambda: torch.nn.Linear(2, 2).to(torch.int64), TypeError,
                      "Module.to only accepts floating point dtypes")


# -- cuda, accelerator, backends --------------------------------------------------------------
@no_gpu
@pytest.mark.parametrize("name", ["is_available", "device_count", "is_initialized",
                                  "is_bf16_supported", "empty_cache", "memory_allocated"])
def test_cuda_queries_without_a_gpu_as_torch(name):
    assert getattr(nnlab.cuda, name)() == getattr(torch.cuda, name)()


@no_gpu
def test_cuda_seeding_is_accepted_without_a_gpu():
    for name in ("manual_seed", "manual_seed_all"):
        assert getattr(nnlab.cuda, name)(3) is None and getattr(torch.cuda, name)(3) is None
    assert nnlab.cuda.seed() is None and nnlab.cuda.seed_all() is None
    with pytest.raises(TypeError, match="cuda.manual_seed: expected an int seed, got str"):
        nnlab.cuda.manual_seed("3")


@no_gpu
@pytest.mark.parametrize("name", ["synchronize", "current_device", "get_device_name",
                                  "get_device_capability"])
def test_cuda_calls_that_need_a_gpu_raise_as_torch(name):
    raises_like_torch(getattr(nnlab.cuda, name), getattr(torch.cuda, name), RuntimeError,
                      f"cuda.{name}: no GPU is available")


@no_gpu
def test_accelerator_without_a_gpu_as_torch():
    assert nnlab.accelerator.is_available() is torch.accelerator.is_available() is False
    assert nnlab.accelerator.current_accelerator() is torch.accelerator.current_accelerator()
    assert nnlab.accelerator.device_count() == torch.accelerator.device_count() == 0


@pytest.mark.parametrize("path", ["cudnn.enabled", "cudnn.benchmark", "cudnn.deterministic",
                                  "cudnn.allow_tf32", "cuda.matmul.allow_tf32"])
def test_backend_flags_default_as_torch_and_are_settable(path):
    def owner(root):
        *parts, last = path.split(".")
        for p in parts:
            root = getattr(root, p)
        return root, last
    ours, name = owner(nnlab.backends)
    theirs, _ = owner(torch.backends)
    assert getattr(ours, name) == getattr(theirs, name)
    before = getattr(ours, name)
    try:
        setattr(ours, name, not before)
        assert getattr(ours, name) is (not before)
    finally:
        setattr(ours, name, before)


@no_gpu
def test_backend_queries_as_torch():
    assert nnlab.backends.mps.is_available() is torch.backends.mps.is_available() is False
    assert nnlab.backends.cudnn.is_available() is False
    assert nnlab.backends.cudnn.version() is None
    import nnlab.backends.cudnn as cudnn  # the import form older examples use
    cudnn.benchmark = True
    assert nnlab.backends.cudnn.benchmark is True
    cudnn.benchmark = False


# -- amp --------------------------------------------------------------------------------------
def _train_step(scaler=None, cast=None):
    """One SGD step of a tiny model, with or without the mixed-precision boilerplate."""
    nnlab.manual_seed(0)
    model = nn.Linear(3, 1)
    opt = nnlab.optim.SGD(model.parameters(), lr=0.1)
    x, y = nnlab.ones(4, 3), nnlab.zeros(4, 1)
    if cast is None:
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
    else:
        with cast:
            loss = ((model(x) - y) ** 2).mean()
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        scaler.step(opt)
        scaler.update()
    return [p.detach().numpy().copy() for p in model.parameters()]


@pytest.mark.parametrize("make", [
    lambda: (nnlab.amp.GradScaler(), nnlab.amp.autocast("cpu")),
    lambda: (nnlab.amp.GradScaler("cuda"), nnlab.amp.autocast("cuda", dtype=nnlab.float16)),
    lambda: (nnlab.cuda.amp.GradScaler(), nnlab.cuda.amp.autocast()),
    lambda: (nnlab.amp.GradScaler(enabled=False), nnlab.autocast("cpu", nnlab.bfloat16)),
], ids=["cpu", "cuda", "legacy", "bfloat16"])
def test_amp_is_an_exact_no_op(make):
    scaler, cast = make()
    for a, b in zip(_train_step(), _train_step(scaler, cast)):
        np.testing.assert_array_equal(a, b)


@no_gpu
def test_grad_scaler_reports_as_torchs_disabled_one():
    ours = nnlab.amp.GradScaler("cuda", init_scale=8.0, growth_interval=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.amp.GradScaler("cuda", init_scale=8.0, growth_interval=10)
    loss = nnlab.tensor(2.0)
    assert ours.scale(loss) is loss and theirs.is_enabled() is ours.is_enabled() is False
    assert ours.get_scale() == theirs.get_scale() == 1.0
    assert ours.state_dict() == theirs.state_dict() == {}
    assert ours.load_state_dict({}) is None and theirs.load_state_dict({}) is None
    assert ours.update() is None and ours.unscale_(None) is None
    assert ours.get_growth_interval() == 10 and ours.get_growth_factor() == 2.0
    ours.set_backoff_factor(0.25)
    assert ours.get_backoff_factor() == 0.25
    outputs = [loss, loss * 2]
    assert ours.scale(outputs) is outputs


def test_grad_scaler_step_returns_the_optimizers_result():
    class Opt:
        def step(self, closure=None):
            return "stepped" if closure is None else closure()
    assert nnlab.amp.GradScaler().step(Opt()) == "stepped"
    assert nnlab.amp.GradScaler().step(Opt(), lambda: 3) == 3


def test_autocast_as_decorator_and_its_errors():
    @nnlab.amp.autocast("cpu")
    def f(x):
        return x * 2
    assert f(nnlab.ones(2)).dtype == np.float32
    with nnlab.autocast(device_type="cuda", enabled=False) as cast:
        assert cast.fast_dtype == np.float16 and cast.device == "cuda"
    raises_like_torch(lambda: nnlab.autocast("xyz"), lambda: torch.autocast("xyz"),
                      RuntimeError, "device type at start of device string: xyz")
    raises_like_torch(lambda: nnlab.autocast(nnlab.device("cpu")),
                      lambda: torch.autocast(torch.device("cpu")), ValueError,
                      "expected `device_type` of type `str`")


def test_legacy_amp_import_form():
    from nnlab.cuda.amp import GradScaler, autocast
    assert issubclass(GradScaler, nnlab.amp.GradScaler)
    assert autocast().device == "cuda"
