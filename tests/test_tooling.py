"""The checks CI relies on stay wired: `make test` lints first, and every suppression says why."""

from __future__ import annotations

import re

from tests.conftest import ROOT

# A suppression names its codes and then, after a second "#", why; a bare one hides problems silently.
_SUPPRESSION = re.compile(r"#\s*(?:type:\s*ignore|noqa)\b(?P<rest>.*)$")
_EXPLAINED = re.compile(r"^(?:\[[\w-]+(?:,\s*[\w-]+)*\]|:\s*[A-Z]+\d+(?:,\s*[A-Z]+\d+)*)\s+#\s*\S")


def _targets(makefile: str, target: str) -> list[str]:
    match = re.search(rf"^{target}:([^\n]*)", makefile, re.MULTILINE)
    assert match, f"no {target} target"
    return match.group(1).split()


def test_make_test_runs_lint_and_lint_runs_ruff_and_mypy() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "lint" in _targets(makefile, "test")
    recipe = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    for command in ("ruff check", "ruff format --check", "mypy"):
        assert command in recipe, command
    assert "--durations=15" in makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert '-m "not slow"' in makefile.split("\ntest-fast:", 1)[1].split("\n\n", 1)[0]


def test_every_type_ignore_and_noqa_carries_a_code_and_a_reason() -> None:
    bare = []
    for folder in ("bot", "index", "scripts", "tests"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                found = _SUPPRESSION.search(line)
                if found and not _EXPLAINED.match(found.group("rest").strip()):
                    bare.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert bare == []
