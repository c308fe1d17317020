import subprocess
import sys


def test_recognition_demo_reaches_the_expected_decisions():
    done = subprocess.run(
        [sys.executable, "-m", "facegate", "demo", "--recognition"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "8/8 new shots of enrolled people recognised" in out
    assert "1/1 stranger rejected" in out
    assert "REFUSED  blurry" in out and "REFUSED  several_faces" in out


def test_door_demo_opens_for_the_live_student_only():
    """`make demo`: the door service on mock pins, one grant, three refusals with reasons."""
    done = subprocess.run(
        [sys.executable, "-m", "facegate", "demo"], capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "4/4 scenes ended as expected" in out
    assert out.count("GRANTED [granted]") == 1 and out.count("relay GPIO17: ON") == 1
    assert "DENIED [totp_replayed]" in out and "DENIED [spoof_static]" in out
    assert "DENIED [unknown_face]" in out and "ALARM spoof_attempt" in out
    pulse = float(out.split("OFF (door locked) after ")[1].split(" s")[0])
    assert 2.7 <= pulse <= 3.5  # hardware.unlock_s = 3
