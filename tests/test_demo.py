import subprocess
import sys


def test_make_demo_reaches_the_expected_decisions():
    done = subprocess.run(
        [sys.executable, "-m", "facegate", "demo"], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "8/8 new shots of enrolled people recognised" in out
    assert "1/1 stranger rejected" in out
    assert "REFUSED  blurry" in out and "REFUSED  several_faces" in out
