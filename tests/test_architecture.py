"""The package rules of docs/architecture.md, checked on the real import graph.

Every ``import facegate.X`` and ``from facegate.X import`` (also inside functions) of every
module is read with ``ast``; a package may import only the packages its row allows. The door
never imports the tools (demo, bench, evaluation, cli) nor the server-side apps (dashboard,
provision); lower layers never import upper ones.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "device" / "facegate"

BASE = {"errors", "common", "__init__"}
# What each top-level package (or module) may import besides itself and BASE.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "common": set(),
    "config": set(),
    "vision": {"config"},
    "liveness": {"vision", "config"},
    "identity": {"vision", "config"},
    "events": {"config"},
    "mqtt": {"events", "config"},
    "hardware": {"liveness", "config"},
    "service": {"config"},
    "access": {"identity", "liveness", "vision", "events", "config"},
    "door": {
        "access",
        "identity",
        "liveness",
        "vision",
        "events",
        "mqtt",
        "hardware",
        "service",
        "config",
    },
    "demo": {
        "door",
        "access",
        "identity",
        "liveness",
        "vision",
        "events",
        "mqtt",
        "hardware",
        "service",
        "config",
        "evaluation",
    },
    "evaluation": {
        "demo",
        "door",
        "hardware",
        "access",
        "identity",
        "liveness",
        "vision",
        "events",
        "config",
    },
    "bench": {
        "door",
        "demo",
        "evaluation",
        "access",
        "identity",
        "liveness",
        "vision",
        "events",
        "mqtt",
        "hardware",
        "service",
        "config",
    },
    "dashboard": {
        "access",
        "events",
        "mqtt",
        "config",
        "service",
        "demo",
    },  # demo: its newcomer path
    "provision": {"access", "identity", "events", "mqtt", "config"},
    "cli": {"*"},
    "__main__": {"cli"},
    "__init__": set(),
}
TOOLS = {"demo", "bench", "evaluation", "cli", "dashboard", "provision", "__main__"}
RUNTIME = set(ALLOWED) - TOOLS


def imports_of(path: Path) -> set[str]:
    """The top-level facegate packages ``path`` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            if node.module == "facegate":  # the package's own attributes (__version__)
                names = [f"facegate.{a.name}" for a in node.names if not a.name.startswith("__")]
        for name in names:
            parts = name.split(".")
            if parts[0] == "facegate" and len(parts) > 1:
                found.add(parts[1])
    return found


def owner(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def test_every_package_has_a_row() -> None:
    packages = {owner(p) for p in PACKAGE.rglob("*.py")}
    assert packages <= set(ALLOWED), f"add a row to ALLOWED: {sorted(packages - set(ALLOWED))}"


def test_no_package_imports_what_its_layer_may_not() -> None:
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        me = owner(path)
        allowed = ALLOWED[me]
        for used in imports_of(path) - {me} - BASE:
            if "*" not in allowed and used not in allowed:
                wrong.append(f"{path.relative_to(PACKAGE)} imports facegate.{used}")
    assert not wrong, "\n".join(wrong)


def test_the_door_never_imports_tools_or_server_apps() -> None:
    for me in RUNTIME:
        assert not ALLOWED[me] & TOOLS, me


def test_the_rules_are_a_layering_without_cycles() -> None:
    graph = {k: {v for v in vs if v in ALLOWED} for k, vs in ALLOWED.items() if "*" not in vs}
    done: set[str] = set()

    def visit(node: str, trail: tuple[str, ...]) -> None:
        assert node not in trail, " -> ".join((*trail, node))
        if node in done:
            return
        for nxt in graph.get(node, ()):
            if nxt not in ("demo", "evaluation"):  # the two tool packages share helpers
                visit(nxt, (*trail, node))
        done.add(node)

    for node in graph:
        visit(node, ())


BLOCK_NUMPY_AND_OPENCV = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("numpy", "cv2", "dlib", "sklearn"):
            raise ImportError(f"{name} is not installed (blocked by the test)")
        return None
sys.meta_path.insert(0, Block())
"""


def test_config_and_command_checking_import_without_numpy_or_opencv() -> None:
    """``import facegate.config`` and the command verifier, as the dashboard and a signing tool
    use them, on a machine without numpy or OpenCV."""
    code = BLOCK_NUMPY_AND_OPENCV + (
        "import facegate.config, facegate.mqtt.commands, facegate.common.key_files\n"
        "facegate.config.Settings()\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_the_door_doc_lists_exactly_the_alarm_kinds_the_code_has() -> None:
    """docs/door.md's list of alarm kinds drifts no more (it once listed 8 of 12)."""
    import re

    from facegate.events.alarm_event import ALARM_KINDS

    text = (PACKAGE.parents[1] / "docs" / "door.md").read_text()
    start = text.index("Alarm kinds (")
    listed = set(re.findall(r"`([a-z_]+)`", text[start : text.index("\n\n", start)]))
    assert listed == set(ALARM_KINDS)


def test_package_docstrings_say_what_is_there() -> None:
    """The docstrings that once said "(next) the access flow" and "MQTT next"."""
    for name in ("access", "events", "mqtt", "door", "config", "common"):
        doc = (PACKAGE / name / "__init__.py").read_text()
        assert "next" not in doc.lower(), name


def test_no_module_is_over_400_lines() -> None:
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert not long, long


def test_the_cli_is_a_package_of_thin_command_modules() -> None:
    """One module per command group (docs/cli.md), none touching arrays or images itself: what
    a command computes lives in the domain packages."""
    cli = PACKAGE / "cli"
    assert (cli / "__init__.py").is_file() and not (PACKAGE / "cli.py").exists()
    heavy = {"numpy", "cv2", "dlib", "sklearn", "sqlite3", "paho"}
    for path in sorted(cli.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                used = {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                used = {node.module.split(".")[0]}
            else:
                continue
            assert not used & heavy, f"cli/{path.name} imports {used & heavy}"


def test_the_cli_starts_without_the_domain_libraries() -> None:
    """``facegate --help`` or a door command loads no numpy, OpenCV, dlib, LiteRT or the
    dashboard's web stack until a command needs them."""
    code = (
        "import sys, facegate.cli\n"
        "heavy = {'numpy', 'cv2', 'dlib', 'ai_edge_litert', 'starlette', 'sqlalchemy', 'paho'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
