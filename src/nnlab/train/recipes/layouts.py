"""What `--data` each recipe expects: its data layout, keyed by the recipe's name (the
registry's `register` has no field for it), shown by `nnlab train --help`."""

_MNIST = ("a folder with MNIST's test IDX files t10k-images-idx3-ubyte and "
          "t10k-labels-idx1-ubyte (.gz or not), or its parent holding them in mnist/ "
          "(default: $NNLAB_DATA/mnist, then ~/.cache/nnlab/mnist)")
_SHAKESPEARE = ("Tiny Shakespeare's input.txt: the folder holding it, or its parent holding "
                "it in tinyshakespeare/ (default: $NNLAB_DATA/tinyshakespeare, then "
                "~/.cache/nnlab/tinyshakespeare)")

LAYOUTS = {
    "mlp-digits": "none (scikit-learn's bundled 8x8 digits; --data is not used)",
    "mlp-mnist": _MNIST,
    "lenet-mnist": _MNIST,
    "vae-mnist": _MNIST,
    "ae-mnist": _MNIST,
    "ss-mnist": _MNIST,
    "seq2seq-reverse": "none (synthetic digit strings; --data is not used)",
    "char-lstm": _SHAKESPEARE,
    "gpt-shakespeare": _SHAKESPEARE,
    "classifier": "a CSV or TSV file (a header row optional; the class column by --target "
                  "COLUMN, default the last), an NPZ archive (features x and labels y, or "
                  "--target NAME), or a folder of images with one sub-folder per class "
                  "(ImageFolder: PNG / JPEG through Pillow)",
    "regressor": "a CSV, TSV or NPZ file as for classifier, with a numeric --target column",
}


def layout(name):
    """The data layout that recipe `name` expects, or None where none is written down."""
    return LAYOUTS.get(name)


def data_help(names):
    """The help text of `nnlab train --data`: the recipes of `names` with their layouts,
    recipes that share a layout named together."""
    groups = {}
    for name in names:
        groups.setdefault(layout(name) or "see nnlab train --list", []).append(name)
    per_layout = "; ".join(f"{', '.join(group)}: {text}" for text, group in groups.items())
    return f"the recipe's data, a file or folder. By recipe: {per_layout}"
