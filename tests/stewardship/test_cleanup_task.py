"""The Windows scheduled task shipped in installer/: valid, and runs what the CLI accepts."""

from __future__ import annotations

import shlex
import xml.etree.ElementTree as ET
from pathlib import Path

from cci_uploader.cli import build_parser
from cci_uploader.cli.cleanup import run_cleanup
from cci_uploader.config import Config

TASK = Path(__file__).resolve().parents[2] / "installer" / "cleanup-task.xml"
NS = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}


def test_task_runs_cleanup_under_the_facility_account_leaving_dry_run_to_config() -> None:
    root = ET.parse(TASK).getroot()
    principal = root.find("t:Principals/t:Principal", NS)
    assert principal is not None
    assert principal.findtext("t:LogonType", namespaces=NS) == "Password"
    assert principal.findtext("t:RunLevel", namespaces=NS) == "LeastPrivilege"
    arguments = root.findtext("t:Actions/t:Exec/t:Arguments", namespaces=NS) or ""
    _, command = arguments.split("|", 1)
    exe, *argv = shlex.split(command.replace("\\", "/"))
    assert exe.endswith("/cci-uploader-cli.exe")  # a console program can read stdin
    args = build_parser().parse_args(argv)
    assert args.func is run_cleanup
    assert args.dry_run is None  # the config decides...
    assert Config().cleanup_dry_run is True  # ...and the shipped default only reports
    assert args.older_than >= 1
    assert "--token" not in argv and "cleanup-token.txt" in arguments.split("|", 1)[0]
