"""The ``facegate`` command: one module per command group, each thin over the domain.

``root`` holds the group, the settings every command receives, the output conventions
(``--json``, progress on stderr) and the exit codes; docs/cli.md lists the commands.
"""

from facegate.cli.attendance import attendance
from facegate.cli.bench import bench
from facegate.cli.demo import demo
from facegate.cli.door import check_config, check_models, run
from facegate.cli.eval import eval_group
from facegate.cli.gallery import enroll, gallery
from facegate.cli.identify import identify
from facegate.cli.mqtt import mqtt
from facegate.cli.root import cli, main
from facegate.cli.totp import totp

# The proctors' dashboard (its own extra): dashboard/cli.py imports only click at load time,
# each of its commands imports starlette and the rest when it runs.
from facegate.dashboard.cli import dashboard

# SD-card provisioning: provision/cli.py also imports only click at load time.
from facegate.provision.cli import provision

for _command in (
    check_config,
    run,
    check_models,
    enroll,
    gallery,
    totp,
    attendance,
    identify,
    eval_group,
    mqtt,
    bench,
    demo,
    dashboard,
    provision,
):
    cli.add_command(_command)

__all__ = ["cli", "main"]
