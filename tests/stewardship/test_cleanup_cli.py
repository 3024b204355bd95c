"""``cleanup`` end to end: the facility account's keyring password, reports, dry run."""

from __future__ import annotations

from pathlib import Path

import keyring
import pytest

from cci_uploader import omero as om
from cci_uploader.cli import main
from cci_uploader.hashing import file_sha1
from cci_uploader.omero.password_login import login
from cci_uploader.omero.retention import delete_filesets
from cci_uploader.sandbox import SERVICE_ACCOUNT, SERVICE_PASSWORD, SandboxServer
from cci_uploader.stewardship import removal
from cci_uploader.stewardship.credentials import SERVICE, stored_password
from cci_uploader.stewardship.history import History
from tests.stewardship.stewardship_helpers import (
    TIA,
    age,
    copy_samples,
    czi_copy,
    facility_config,
    report_reasons,
    report_sections,
    stdin,
    upload,
)


@pytest.fixture
def pc(
    sandbox: SandboxServer,
    conn: om.Connection,
    service: om.Connection,
    samples: Path,
    tmp_path: Path,
) -> dict[str, Path]:
    """A microscope PC's data folder: uploaded, changed, unknown and recent files.

    The clean-up account's own history holds the records it checks; a record of
    another user (``by_demo``) is not used, the file's own SHA-1 is.
    """
    root = tmp_path / "pc"
    history = History()
    files = {
        "verified": czi_copy(samples, root, 1, "verified.czi"),
        "recent": czi_copy(samples, root, 2, "recent.czi"),
        "changed": czi_copy(samples, root, 3, "changed.czi"),
        "on_server": czi_copy(samples, root / "copies", 4, "renamed.czi"),
        "unknown": czi_copy(samples, root, 5, "never-uploaded.czi"),
        "deleted": czi_copy(samples, root, 6, "deleted-on-server.czi"),
        "by_demo": czi_copy(samples, root, 7, "by-demo.czi"),
    }
    emi, ser = copy_samples(samples, root / "tem", *TIA)
    files.update(emi=emi, ser=ser)
    notes = root / "notes.txt"
    notes.write_text("not microscopy")
    files["notes"] = notes
    for key in ("verified", "recent", "changed", "deleted", "emi"):
        upload(service, history, files[key])
    upload(conn, history, files["by_demo"])  # the demo user's record, same history
    # The same bytes as renamed.czi, uploaded from another folder by someone.
    upload(conn, History(tmp_path / "other-pc.sqlite3"), czi_copy(samples, tmp_path / "o", 4))
    files["changed"].write_bytes(files["changed"].read_bytes() + b"edited")
    [deleted] = [u for u in history.uploads() if u.main.name == "deleted-on-server.czi"]
    delete_filesets(service, {deleted.group_id: deleted.fileset_ids})
    age(*(path for key, path in files.items() if key != "recent"))
    return files


EXPECTED = ("verified", "on_server", "by_demo", "emi", "ser")
KEPT = ("changed", "unknown", "deleted", "notes")


def test_cleanup_dry_run_removes_nothing_and_lists_what_the_real_run_removes(
    sandbox: SandboxServer,
    stored: None,
    facility: Path,
    pc: dict[str, Path],
    tmp_path: Path,
    _isolated_dirs: Path,
) -> None:
    root, logs = tmp_path / "pc", _isolated_dirs / "logs"
    hashes = {p: file_sha1(p) for p in pc.values()}
    argv = ["cleanup", "--root", str(root), "--older-than", "30"]
    expected = {pc[k] for k in EXPECTED}

    assert main([*argv, "--dry-run"]) == 0
    mode, dry = report_sections(logs)
    assert mode.startswith("dry run")
    assert dry["Would remove"] == expected
    assert dry["Kept"] == {pc[k] for k in KEPT}
    assert {p: file_sha1(p) for p in pc.values()} == hashes  # nothing touched

    assert main(argv) == 0  # the shipped config: a dry run without the flag too
    assert report_sections(logs)[0].startswith("dry run")
    assert all(p.exists() for p in pc.values())

    facility_config(facility, sandbox.address, dry_run=False, delete_mode="recycle")
    assert main(["cleanup", "--root", str(root)]) == 0  # the age limit from the config: 30
    mode, real = report_sections(logs)
    assert mode == "recycle bin"
    assert real["Removed"] == dry["Would remove"]
    assert real["Kept"] == dry["Kept"]
    assert {p for p in pc.values() if not p.exists()} == expected
    for path in set(pc.values()) - expected:
        assert file_sha1(path) == hashes[path]
    removed = {u.main.name for u in History().uploads() if u.removed is not None}
    assert removed == {"verified.czi", pc["emi"].name}


def test_cleanup_report_says_why_each_file_was_kept(
    stored: None, pc: dict[str, Path], tmp_path: Path, _isolated_dirs: Path
) -> None:
    assert main(["cleanup", "--root", str(tmp_path / "pc"), "--older-than", "30"]) == 0
    reasons = report_reasons(_isolated_dirs / "logs")
    assert "changed after it was uploaded" in reasons[str(pc["changed"])]
    assert "OMERO holds no file with its SHA-1" in reasons[str(pc["unknown"])]
    assert "no longer on OMERO" in reasons[str(pc["deleted"])]
    assert "not a microscopy file" in reasons[str(pc["notes"])]
    assert reasons[str(pc["by_demo"])] == "verified: OMERO holds a file with the same SHA-1"
    [report] = (_isolated_dirs / "logs").glob("cleanup-*.txt")
    assert "Not looked at: 1 files younger than 30 days." in report.read_text()


def _one_line_failure(
    capsys: pytest.CaptureFixture[str], logs: Path, root: Path, files: list[Path], says: str
) -> None:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and says in err and "Nothing was removed" in err
    [*_, report] = sorted(logs.glob("cleanup-*.txt"), key=lambda p: p.stat().st_mtime_ns)
    text = report.read_text()
    assert says in text
    assert "Nothing was removed." in text
    assert says in (logs / "cci-uploader.log").read_text()
    assert all(p.exists() for p in files)


def test_without_a_stored_password_nothing_is_removed_and_it_says_why(
    sandbox: SandboxServer,
    facility: Path,
    pc: dict[str, Path],
    tmp_path: Path,
    _isolated_dirs: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    facility_config(facility, sandbox.address, dry_run=False)
    root = tmp_path / "pc"
    says = f"No password is stored for the clean-up account '{SERVICE_ACCOUNT}'"
    for dry_run in (["--dry-run"], []):
        assert main(["cleanup", "--root", str(root), *dry_run]) == 1
        _one_line_failure(capsys, _isolated_dirs / "logs", root, list(pc.values()), says)


def test_a_wrong_stored_password_removes_nothing(
    sandbox: SandboxServer,
    stored: None,
    facility: Path,
    pc: dict[str, Path],
    tmp_path: Path,
    _isolated_dirs: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    facility_config(facility, sandbox.address, dry_run=False)
    sandbox.state.identity.passwords.set(SERVICE_ACCOUNT, "changed on the server")
    capsys.readouterr()
    assert main(["cleanup", "--root", str(tmp_path / "pc")]) == 1
    _one_line_failure(
        capsys,
        _isolated_dirs / "logs",
        tmp_path / "pc",
        list(pc.values()),
        f"refused the password of the account '{SERVICE_ACCOUNT}'",
    )


def test_without_an_account_in_the_config_nothing_is_removed(
    sandbox: SandboxServer,
    tmp_path: Path,
    _isolated_dirs: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "facility.toml"
    config.write_text(f'[omero]\nserver = "{sandbox.address}"\n[cleanup]\ndry_run = false\n')
    monkeypatch.setenv("CCI_UPLOADER_CONFIG", str(config))
    monkeypatch.setenv("CCI_OMERO_TOKEN", sandbox.new_token())  # a token is not used
    data = czi_copy(Path(__file__).parents[3] / "shared" / "samples", tmp_path / "pc", 1)
    age(data)
    assert main(["cleanup", "--root", str(tmp_path / "pc")]) == 1
    _one_line_failure(
        capsys, _isolated_dirs / "logs", tmp_path / "pc", [data], "No clean-up account is set"
    )


def test_set_password_checks_it_on_the_server_and_keeps_it_in_the_keyring_only(
    sandbox: SandboxServer,
    facility: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    backend = keyring.get_keyring()
    assert type(backend).__module__ == "keyrings.alt.file"  # the test store, never the real one
    assert Path(backend.file_path).is_relative_to(tmp_path)

    stdin(monkeypatch, "not the password\n")
    assert main(["cleanup", "--set-password"]) == 1
    assert "refused the password" in capsys.readouterr().err
    assert stored_password(SERVICE_ACCOUNT, sandbox.address) is None

    stdin(monkeypatch, SERVICE_PASSWORD + "\n")
    assert main(["cleanup", "--set-password"]) == 0
    assert "OMERO accepted the password" in capsys.readouterr().out
    assert stored_password(SERVICE_ACCOUNT, sandbox.address) == SERVICE_PASSWORD
    # Stored for this server only: a password for one server is never sent to another.
    assert stored_password(SERVICE_ACCOUNT, "omero.example.org") is None
    assert keyring.get_password(SERVICE, f"{SERVICE_ACCOUNT}@{sandbox.address}")
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p != Path(backend.file_path)]
    for path in written:
        assert SERVICE_PASSWORD.encode() not in path.read_bytes(), f"password found in {path}"


def test_the_training_sandbox_never_verifies_anything_for_the_cleanup(
    training_sandbox: SandboxServer,
    samples: Path,
    tmp_path: Path,
    _isolated_dirs: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = facility_config(tmp_path / "f.toml", training_sandbox.address, dry_run=False)
    monkeypatch.setenv("CCI_UPLOADER_CONFIG", str(config))
    stdin(monkeypatch, SERVICE_PASSWORD + "\n")
    assert main(["cleanup", "--set-password"]) == 0
    conn = login(training_sandbox.address, SERVICE_ACCOUNT, SERVICE_PASSWORD)
    conn.switch_group("Sandbox Lab")
    try:
        data = czi_copy(samples, tmp_path / "pc", 1)
        upload(conn, History(), data)  # a record of its own, and the bytes on the stand-in
    finally:
        conn.close()
    age(data)
    assert main(["cleanup", "--root", str(tmp_path / "pc")]) == 0
    reasons = report_reasons(_isolated_dirs / "logs")
    assert reasons[str(data.resolve())] == "the training sandbox is not a copy anyone can rely on"
    assert data.exists()


def test_a_run_stopped_by_the_server_reports_what_it_did_and_the_error(
    sandbox: SandboxServer,
    stored: None,
    facility: Path,
    service: om.Connection,
    samples: Path,
    tmp_path: Path,
    _isolated_dirs: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    facility_config(facility, sandbox.address, dry_run=False, delete_mode="delete")
    first, second = (czi_copy(samples, tmp_path / "pc", n) for n in (1, 2))
    upload(service, History(tmp_path / "elsewhere.sqlite3"), first, second)
    age(first, second)
    real_remove = removal.remove_files

    def remove_then_expire(paths: object, mode: str) -> None:
        real_remove(paths, mode)  # type: ignore[arg-type]
        for token, session in list(sandbox.state.sessions.items()):
            if session.user_id == sandbox.seed.service_account.id:
                sandbox.expire(token)  # the server ends the clean-up's session meanwhile

    monkeypatch.setattr(removal, "remove_files", remove_then_expire)
    assert main(["cleanup", "--root", str(tmp_path / "pc")]) == 1
    assert "The clean-up stopped; the report lists what it did" in capsys.readouterr().err
    _, sections = report_sections(_isolated_dirs / "logs")
    assert sections["Removed"] == {first.resolve()}
    assert not first.exists() and second.exists()
    [report] = (_isolated_dirs / "logs").glob("cleanup-*.txt")
    assert "error: stopped early, the rest was not looked at: Your OMERO session has expired" in (
        report.read_text()
    )
