"""The README's example runs and learns what it says it learns."""
import contextlib
import io
import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_trains_the_circle_classifier():
    code = re.search(r"## A model by hand\n\n```python\n(.*?)```", README.read_text(),
                     re.S).group(1)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    assert out.getvalue().strip() == "loss 0.099"


def test_readme_training_loop_runs_and_learns():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    loop = next(b for b in blocks if "optimizer.step()" in b)
    scope = {}
    exec(compile(loop, "README.md", "exec"), scope)
    assert scope["loss"].item() < 0.5    # from ln 10 = 2.3 at the start
