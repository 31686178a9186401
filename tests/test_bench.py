"""The benchmark computes the same thing on both sides: each registered workload, at its
small size, gives nnlab and torch the same loss and the same gradients. No timing."""
import json
import os

import numpy as np
import pytest
from bench import Workload, all_workloads, run

from tests.helpers import requires_torch

WORKLOADS = all_workloads()


@requires_torch
@pytest.mark.parametrize("name", list(WORKLOADS))
def test_both_sides_compute_the_same(name):
    workload = WORKLOADS[name](small=True)
    nn_step, torch_step = workload.setup_nnlab(), workload.setup_torch()
    for _ in range(2):   # a second step: grads were reset, not accumulated
        nn_loss, torch_loss = nn_step(), torch_step()
    assert nn_loss.item() == pytest.approx(torch_loss.item(), rel=1e-4, abs=1e-5)
    assert nn_step.leaves.keys() == torch_step.leaves.keys()
    for key, leaf in nn_step.leaves.items():
        expected = torch_step.leaves[key].grad.numpy()
        np.testing.assert_allclose(np.asarray(leaf.grad), expected, rtol=1e-4, atol=1e-5,
                                   err_msg=f"{name}: gradient of {key}")


def test_workloads_are_registered_with_targets():
    """Every workload has a name, a description and a positive target, but for the
    reference paths timed only for comparison (the attention math path)."""
    assert {"elementwise-chain", "matmul-1024", "mlp-784-512-10"} <= WORKLOADS.keys()
    for cls in WORKLOADS.values():
        assert cls.name and cls.description
        assert cls.target > 0 if "math" not in cls.name else cls.target is None


class _Broken(Workload):
    name = "broken"
    target = 1.0

    def setup_nnlab(self):
        raise NotImplementedError("an op")

    def setup_torch(self):
        return lambda: None


def test_a_failing_side_is_an_error_row_not_a_crash():
    result = run.measure(_Broken(), repeat=2, warmup=1)
    assert result["errors"]["nnlab"].startswith("NotImplementedError: an op")
    assert result["nnlab_ms"] is None and len(result["times_ms"]["torch"]) == 2
    assert "nnlab error: NotImplementedError: an op" in run.format_table([result])


class _Recorder(Workload):
    name = "recorder"

    def __init__(self):
        super().__init__()
        self.calls = []

    def setup_nnlab(self):
        return lambda: self.calls.append("nnlab")

    def setup_torch(self):
        return lambda: self.calls.append("torch")


@pytest.mark.parametrize("blocks, expected", [
    (False, ["nnlab", "torch"] * 3),
    (True, ["nnlab"] * 3 + ["torch"] * 3),
])
def test_sides_alternate_or_run_in_blocks(blocks, expected):
    workload = _Recorder()
    result = run.measure(workload, repeat=2, warmup=1, blocks=blocks)
    assert workload.calls == expected
    assert [len(result["times_ms"][s]) for s in run.SIDES] == [2, 2]


def test_other_cpu_share_is_what_the_machine_used_beyond_this_process():
    cpus = os.cpu_count()
    assert run.other_cpu_share((10.0, 1.0), (10.0 + cpus, 2.0), wall=1.0) == \
        pytest.approx((cpus - 1) / cpus)
    assert run.other_cpu_share(None, (1.0, 1.0), wall=1.0) is None
    assert run.other_cpu_share((1.0, 1.0), (1.0, 1.0), wall=0.1) is None


@requires_torch
def test_main_prints_a_table_and_writes_json(tmp_path, capsys):
    path = tmp_path / "out" / "bench.json"
    run.main(["--only", "elementwise", "--small", "--repeat", "2", "--warmup", "1",
              "--json", str(path)])
    out = capsys.readouterr().out
    assert "| elementwise-chain |" in out and "nnlab/torch" in out
    data = json.loads(path.read_text())
    (result,) = data["results"]
    assert result["name"] == "elementwise-chain" and len(result["times_ms"]["nnlab"]) == 2
    assert data["environment"]["torch_threads"] == run.TORCH_THREADS
    assert [p.name for p in path.parent.iterdir()] == ["bench.json"]   # no temp file left


def test_only_that_matches_nothing_is_an_error(capsys):
    assert run.main(["--only", "no-such-workload"]) == 2
    assert "elementwise-chain" in capsys.readouterr().err
