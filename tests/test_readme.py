"""The README tells the truth: every Python example runs and prints what it shows; every CLI line runs.

Python blocks are doctests (``>>>`` lines and the output they print), run in order in one namespace, from
the repository root. In ``bash`` blocks every line that starts with ``strategist `` is run; when a
``text`` block follows a block of exactly one such line, the command's output must match it (``...``
stands for any text; runs of white space, line breaks included, compare equal). A line ending in ``# exit N`` must exit with N; one that names ``../shared/data``
is skipped when the shared data are absent. Install lines and ``streamlit run`` are not run here (the app
has its own tests).
"""

from __future__ import annotations

import doctest
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def blocks() -> list[tuple[str, str, int]]:
    """(language, text, line number) of every fenced block of the README."""
    text = README.read_text()
    return [(m.group(1), m.group(2), text[:m.start()].count("\n") + 1) for m in FENCE.finditer(text)]


def cli_cases() -> list:
    found, all_blocks = [], blocks()
    for k, (lang, text, line) in enumerate(all_blocks):
        if lang != "bash":
            continue
        commands = [c for c in text.splitlines() if c.startswith("strategist ") or c == "strategist"]
        expected = None
        if len(commands) == 1 and k + 1 < len(all_blocks) and all_blocks[k + 1][0] == "text":
            expected = all_blocks[k + 1][1]
        for command in commands:
            found.append(pytest.param(command, expected, id=f"line{line}:{command[:60]}"))
    return found


def test_the_readme_has_examples_of_both_kinds():
    langs = [lang for lang, _, _ in blocks()]
    assert langs.count("python") >= 3 and len(cli_cases()) >= 5


def test_python_examples_print_what_the_readme_shows(monkeypatch):
    monkeypatch.chdir(ROOT)
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    namespace: dict = {}
    ran = 0
    for lang, text, line in blocks():
        if lang != "python":
            continue
        assert ">>>" in text, f"README.md line {line}: a Python example without >>> prompts is never checked"
        test = parser.get_doctest(text, namespace, f"README.md:{line}", str(README), line)
        result = runner.run(test, clear_globs=False)
        namespace = test.globs
        ran += result.attempted
        assert result.failed == 0, f"README.md line {line}: {result.failed} example(s) print something else"
    assert ran >= 10


def _matches(expected: str, actual: str) -> bool:
    pattern = ".*?".join(re.escape(part) for part in expected.strip().split("..."))
    squash = lambda s: re.sub(r"\s+", " ", s.strip())  # noqa: E731
    return re.fullmatch(squash(pattern).replace(r"\ ", " "), squash(actual), re.S) is not None


@pytest.mark.parametrize("command,expected", cli_cases())
def test_cli_lines_run(command, expected, shared_data_dir=ROOT.parent / "shared" / "data"):
    if "../shared/data" in command and not shared_data_dir.is_dir():
        pytest.skip("../shared/data is absent")
    code = 0
    if "# exit" in command:
        command, _, code_text = command.partition("# exit")
        code = int(code_text.strip())
    command = command.split(" #")[0]
    argv = shlex.split(command)[1:]
    env = {**os.environ, "COLUMNS": "100"}
    done = subprocess.run([sys.executable, "-m", "strategist", *argv], cwd=ROOT, capture_output=True, text=True,
                          env=env, timeout=600)
    assert done.returncode == code, f"{command}: exit {done.returncode}\n{done.stderr[-2000:]}"
    if expected is not None:
        assert _matches(expected, done.stdout), f"{command} printed:\n{done.stdout}"
