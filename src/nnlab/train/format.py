"""How training output writes a loss: readable at every magnitude."""
import math


def format_loss(value):
    """A loss for a progress line: 4 decimals from 0.01 up to 1e5 ('0.5920', '1234.5678'),
    4 significant digits in scientific notation beyond ('3.2e+08', '1.234e-05', between
    1e-4 and 0.01 as '0.001234'); 0, nan and inf as Python writes them ('0.0000', 'nan')."""
    value = float(value)
    if not math.isfinite(value) or value == 0 or 1e-2 <= abs(value) < 1e5:
        return f"{value:.4f}"
    return f"{value:.4g}"
