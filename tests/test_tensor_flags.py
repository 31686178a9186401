"""Tensor's device and layout flags as torch spells them (pytorch/examples dcgan reads
`is_xpu`): False for the devices and layouts nnlab has none of, read-only as in torch."""
import pytest

import nnlab

FLAGS = ["is_xpu", "is_mps", "is_meta", "is_xla", "is_mtia", "is_maia", "is_ipu",
         "is_vulkan", "is_quantized", "is_mkldnn", "is_nested", "is_sparse_csr", "is_sparse",
         "is_cuda"]


@pytest.mark.parametrize("name", FLAGS)
def test_flags_are_false_on_a_cpu_tensor_as_torch(name):
    torch = pytest.importorskip("torch")
    t = nnlab.ones(2, 3, requires_grad=True)
    assert getattr(t, name) is False and getattr(t * 2, name) is False
    assert getattr(torch.ones(2, 3), name) is False
    assert nnlab.ones(2).is_cpu is True


@pytest.mark.parametrize("name", ["is_xpu", "is_quantized", "is_cuda"])
def test_flags_cannot_be_set(name):
    with pytest.raises(AttributeError):
        setattr(nnlab.ones(2), name, True)


def test_dcgan_device_check_reads_as_cpu():
    """dcgan's `if input.is_cuda or input.is_xpu` branch (multi-GPU) is skipped on nnlab."""
    x = nnlab.zeros(4, 100, 1, 1)
    assert not (x.is_cuda or x.is_xpu)
