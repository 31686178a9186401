"""make_grid and save_image: torchvision.utils' layout, worked by hand."""
import numpy as np
import pytest

import nnlab
from nnlab.utils.images import make_grid, save_image


def test_make_grid_lays_images_out_row_by_row_with_padding():
    images = np.arange(5, dtype=np.float32).reshape(5, 1, 1, 1) + 1   # 1x1 images 1..5
    grid = make_grid(images, nrow=3, padding=1, pad_value=-1)
    assert grid.shape == (3, 2 * 2 + 1, 3 * 2 + 1)                     # one channel -> three
    expected = np.full((5, 7), -1.0)
    expected[1, 1], expected[1, 3], expected[1, 5] = 1, 2, 3
    expected[3, 1], expected[3, 3] = 4, 5
    for channel in grid:
        np.testing.assert_array_equal(channel, expected)


def test_make_grid_of_a_tensor_is_a_tensor_and_normalizes():
    images = nnlab.tensor(np.array([[[0.0, 2.0]], [[4.0, 8.0]]], np.float32))   # (2, 1, 2)
    grid = make_grid(images, nrow=2, padding=0, normalize=True)
    assert isinstance(grid, nnlab.Tensor)
    np.testing.assert_allclose(grid.numpy()[0], [[0.0, 0.25, 0.5, 1.0]])
    each = make_grid(images, nrow=2, padding=0, normalize=True, scale_each=True)
    np.testing.assert_allclose(each.numpy()[0], [[0.0, 1.0, 0.0, 1.0]])


def test_make_grid_refuses_other_shapes():
    with pytest.raises(ValueError, match=r"make_grid: expected images \(B, C, H, W\)"):
        make_grid(np.zeros((3, 4)))


def test_save_image_writes_a_png_of_the_grid(tmp_path):
    from matplotlib.image import imread
    images = np.zeros((4, 1, 2, 2), np.float32)
    images[1] = 1.0
    path = save_image(images, tmp_path / "grid.png", nrow=2, padding=1)
    pixels = imread(path)
    assert pixels.shape[:2] == (7, 7)
    assert pixels[1, 1, 0] == 0 and pixels[1, 4, 0] == 1.0     # image 0 black, image 1 white
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.png"]
