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
