"""benchmarks/bench_onnx.py runs: a smoke run of its quick setting."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("skl2onnx")
pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "bench_onnx.py"


@pytest.mark.slow
def test_bench_onnx_quick_run_writes_its_table(tmp_path):
    out = tmp_path / "onnx_quick.md"
    env = dict(os.environ)
    # This checkout's sklstm first, as the script is run from the repository.
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *filter(None, [env.get("PYTHONPATH")])]
    )
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--threads", "1", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report = out.read_text(encoding="utf-8")
    assert "| windows | 1 |" in report and "| rows | 1 |" in report
