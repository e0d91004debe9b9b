"""scripts/soak.py for 2 minutes, as CI runs it: faults, an outage and a re-index, nothing lost.

The full 20-minute run is by hand (figures in docs/benchmarks.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def test_two_minute_soak_loses_and_duplicates_nothing(model_dir: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "soak.py"),
            *["--minutes", "2", "--rate", "5", "--users", "200", "--outage", "15", "--json"],
            *("--docs", "summaries/*.md"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
        env=env,
        check=False,
    )
    report = json.loads(done.stdout)
    print(json.dumps(report, ensure_ascii=False))  # the figures, in CI's log
    assert report["questions"] >= 200  # ~5/s for 2 minutes, minus users still waiting
    assert report["lost"] == 0 and report["duplicates"] == 0
    assert report["passage_replies_lost"] == 0 and report["passage_replies_duplicated"] == 0
    assert report["button_answers"]["duplicated"] == 0
    assert report["events"]["outage"]["seconds"] == 15 and report["events"]["reindex"]["finished"]
    assert sum(report["injected_failures"].values()) > 0  # the faults really happened
    assert report["delivery"]["lost"] == 0
    assert report["rss_growth"] < 0.10 and report["ok"], done.stderr[-3000:]
    assert done.returncode == 0
