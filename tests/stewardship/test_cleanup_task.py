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
    command = root.findtext("t:Actions/t:Exec/t:Command", namespaces=NS) or ""
    arguments = root.findtext("t:Actions/t:Exec/t:Arguments", namespaces=NS) or ""
    (exe,) = shlex.split(command.replace("\\", "/"))
    assert exe.endswith("/cci-uploader-cli.exe")  # the console build: its output reaches a log
    argv = shlex.split(arguments.replace("\\", "/"))
    args = build_parser().parse_args(argv)
    assert args.func is run_cleanup
    assert args.dry_run is None  # the config decides...
    assert Config().cleanup_dry_run is True  # ...and the shipped default only reports
    assert args.older_than >= 1
    # No token anywhere: the task runs the program itself, with nothing piped in.
    assert "token" not in (command + arguments).lower() and "|" not in arguments


def test_task_may_run_long_but_not_into_the_next_night() -> None:
    root = ET.parse(TASK).getroot()
    limit = root.findtext("t:Settings/t:ExecutionTimeLimit", namespaces=NS)
    assert limit == "PT23H"  # hashing a large data folder takes hours; a day is the period
    period = root.findtext(
        "t:Triggers/t:CalendarTrigger/t:ScheduleByDay/t:DaysInterval", namespaces=NS
    )
    assert period == "1"
    assert root.findtext("t:Settings/t:MultipleInstancesPolicy", namespaces=NS) == "IgnoreNew"


def test_no_token_file_is_shipped_or_named() -> None:
    installer = TASK.parent
    assert not [p for p in installer.iterdir() if "token" in p.name.lower()]
    assert "token.txt" not in TASK.read_text(encoding="utf-8").lower()
