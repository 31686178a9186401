"""What every lab figure ends with: a grid and a legend on each panel, a tight layout, and
the PNG written atomically (a temporary file renamed over `path`)."""
from ..utils.io import atomic_write


def save_figure(fig, path):
    """Finish `fig`'s panels and write it to `path` as PNG; returns `path`."""
    for ax in fig.axes:
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    fig.tight_layout()
    atomic_write(path, lambda f: fig.savefig(f, format="png"))
    return path
