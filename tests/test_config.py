from pathlib import Path

import pytest

from facegate.config import Settings, load_settings
from facegate.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "facegate.toml"
    path.write_text(text)
    return path


def test_defaults_without_a_file():
    s = load_settings(None)
    assert s.embedder.name == "facenet"
    assert s.detection.detector == "haar"
    assert s.matcher.threshold is None


def test_defaults_refused_by_a_credential_say_why(tmp_path, monkeypatch):
    """Found by the emulated first boot: ``facegate check-models`` with the service's
    credentials but no config raised a pydantic traceback, not a configuration error."""
    (tmp_path / "mqtt.password").write_text("secret\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    monkeypatch.delenv("FACEGATE_CONFIG", raising=False)
    with pytest.raises(ConfigError, match=r"mqtt\.password_file needs mqtt\.username"):
        load_settings(None)


def test_a_valid_file_is_read(tmp_path):
    s = load_settings(
        write(
            tmp_path,
            '[device]\nid = "room-101"\n[embedder]\nname = "dlib"\nthreads = 4\n'
            "[matcher]\nthreshold = 0.3\n",
        )
    )
    assert (s.device.id, s.embedder.name, s.embedder.threads) == ("room-101", "dlib", 4)
    assert s.matcher.threshold == 0.3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[embedder]\nthreads = 0\n", "embedder.threads"),
        ('[embedder]\nname = "arcface"\n', "embedder.name"),
        ("[matcher]\nthreshold = -1\n", "matcher.threshold"),
        ("[quality]\nmin_face_px = 5\n", "quality.min_face_px"),
        ("[embeder]\nname = 'dlib'\n", "embeder: unknown key"),
        ("[embedder]\nthread = 2\n", "embedder.thread: unknown key"),
        ("[detection]\nmtcnn_thresholds = [0.6, 0.7, 1.5]\n", "detection.mtcnn_thresholds"),
        ('[device]\nid = "door 1; rm -rf"\n', "device.id"),
    ],
)
def test_bad_values_are_named_with_their_key(tmp_path, text, expected):
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, text))
    assert expected in str(err.value)
    assert str(tmp_path / "facegate.toml") in str(err.value)


def test_invalid_toml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(write(tmp_path, "[embedder\nname = 1"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_settings(tmp_path / "bin.toml")


def test_key_file_defaults_to_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    s = Settings.model_validate({"paths": {"data_dir": str(tmp_path)}})
    assert s.paths.resolved_key_file() == tmp_path / "gallery.key"
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "gallery.key").write_text("x")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    assert s.paths.resolved_key_file() == creds / "gallery.key"


def test_state_directory_from_systemd(monkeypatch, tmp_path):
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "state"))
    assert Settings().paths.data_dir == tmp_path / "state"


def test_documented_defaults_are_the_real_ones() -> None:
    """docs/configuration.md's example file lists every key with its true default."""
    import tomllib

    from facegate.config import Settings
    from tests.conftest import REPO

    text = (REPO / "docs" / "configuration.md").read_text()
    start = text.index("```toml") + len("```toml")
    documented = tomllib.loads(text[start : text.index("```", start)])
    defaults = Settings().model_dump(mode="json")
    optional = {"threshold", "margin", "rgb_led_pins", "door_contact_pin", "exit_button_pin"}
    optional |= {"keypad_rows", "keypad_cols", "keypad_device", "roster_file", "journal_file"}
    optional |= {"client_id", "username", "password_file", "tls", "topic_prefix", "outbox_file"}
    optional |= {"command_key_file", "binding_limit", "models_dir", "key_file"}
    sections = ("detection", "embedder", "matcher", "quality", "liveness", "camera", "hardware")
    for section in (*sections, "access", "service", "retention", "mqtt"):
        for key, value in documented[section].items():
            assert defaults[section][key] == value, f"{section}.{key}"
        assert set(defaults[section]) - optional <= set(documented[section]), section


def test_the_documented_optional_hardware_lines_work_together(tmp_path) -> None:
    """Uncommenting the example's door contact, exit button and matrix keypad gives a valid file."""
    import re

    from facegate.config import load_settings
    from tests.conftest import REPO

    text = (REPO / "docs" / "configuration.md").read_text()
    start = text.index("```toml") + len("```toml")
    block = text[start : text.index("```", start)]
    wanted = ("door_contact_pin", "exit_button_pin", "keypad_rows", "keypad_cols")
    block = re.sub(rf"^# ({'|'.join(wanted)}) =", r"\1 =", block, flags=re.M)
    block = block.replace('keypad = "none"', 'keypad = "matrix"').replace('data_dir = "..."', "")
    path = tmp_path / "full.toml"
    path.write_text(block)
    hw = load_settings(path).hardware
    assert hw.keypad == "matrix" and hw.keypad_rows == (5, 6, 13, 19) and hw.exit_button_pin == 12
