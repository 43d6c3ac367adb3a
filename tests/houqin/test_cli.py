"""The `houqin` command as an administrator uses it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from PIL import Image
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from houqin.cli import main
from houqin.demo import DAILY_LIFE_PEOPLE, PEOPLE, demo_settings
from models import labels
from models.assets import Asset, AssetKind
from models.clock import SettableClock
from models.db import make_engine
from models.duties import Task
from models.notifications import Notification
from models.org import District, School
from models.people import Person, Role
from models.records import Record
from models.suppliers import suppliers_for
from settings import Settings
from tests.factories import make_asset, make_person, make_school
from tests.qr_reading import read_qr_codes


@pytest.fixture
def runner(engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOUQIN_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("HOUQIN_BASE_URL", "https://houqin.example.edu.cn")
    monkeypatch.setenv("HOUQIN_DATA_DIR", str(tmp_path / "data"))
    return CliRunner()


def test_labels_writes_a_pdf_sheet_and_pngs_that_scan_to_the_asset(
    runner: CliRunner, session: Session, clock: SettableClock, tmp_path: Path
) -> None:
    school = make_school(session, "SY01", "实验小学")
    extinguisher = make_asset(session, clock, school)
    make_asset(session, clock, school, AssetKind.BUS, "XC-01", "1号校车")
    session.commit()

    result = runner.invoke(
        main,
        [
            "labels",
            "--school",
            "SY01",
            "--kind",
            "extinguisher",
            "--out",
            "sheet.pdf",
            "--png",
            "png",
        ],
    )

    assert result.exit_code == 0, result.output
    assert "1 label(s)" in result.output
    assert (tmp_path / "sheet.pdf").read_bytes().startswith(b"%PDF")
    [png] = sorted((tmp_path / "png").iterdir())
    assert png.name == "MHQ-001.png"
    [code] = read_qr_codes(Image.open(png))
    assert code == f"https://houqin.example.edu.cn/s/{extinguisher.current_label.token}"


def test_a_sheet_being_drawn_does_not_hold_up_a_staff_members_write(
    runner: CliRunner,
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    school = make_school(session, "SY01", "实验小学")
    make_asset(session, clock, school)
    session.commit()
    draw_sheet = labels.write_sheet_pdf

    def drawn_while_someone_files(*args: Any, **kwargs: Any) -> Any:
        with session_factory() as elsewhere:
            make_person(elsewhere, clock, elsewhere.get_one(School, school.id), username="zhang")
            elsewhere.commit()
        return draw_sheet(*args, **kwargs)

    monkeypatch.setattr(labels, "write_sheet_pdf", drawn_while_someone_files)
    result = runner.invoke(main, ["labels", "--school", "SY01", "--out", "sheet.pdf"])

    assert result.exit_code == 0, result.output
    assert session.scalar(select(Person).where(Person.username == "zhang")) is not None


def test_a_large_batch_shows_its_progress_on_stderr_only_when_asked(
    runner: CliRunner, session: Session, clock: SettableClock, tmp_path: Path
) -> None:
    school = make_school(session, "SY01", "实验小学")
    for number in range(1, 31):
        make_asset(session, clock, school, code=f"MHQ-{number:03d}")
    make_asset(session, clock, school, AssetKind.BUS, "XC-01", "1号校车")
    session.commit()

    shown = runner.invoke(main, ["labels", "--out", "a.pdf", "--layout", "2x5", "--progress"])
    quiet = runner.invoke(main, ["labels", "--school", "SY01", "--kind", "bus", "--out", "b.pdf"])

    assert shown.exit_code == 0, shown.output
    assert "32/32" in shown.stderr
    assert "32 label(s)" in shown.stdout
    assert quiet.exit_code == 0, quiet.output
    assert quiet.stderr == ""
    assert "2 label(s) for 实验小学" in quiet.stdout
    assert (tmp_path / "a.pdf").read_bytes().count(b"/MediaBox") == 4  # 10 large labels a page


def test_only_the_reissued_labels_of_the_codes_given_are_printed(
    runner: CliRunner, session: Session, clock: SettableClock
) -> None:
    school = make_school(session, "SY01", "实验小学")
    make_asset(session, clock, school, code="MHQ-001")
    make_asset(session, clock, school, code="MHQ-002")
    session.commit()

    result = runner.invoke(
        main, ["labels", "--asset", "MHQ-001", "--asset", "MHQ-002", "--reissued", "--out", "x.pdf"]
    )

    assert result.exit_code != 0
    assert "no labels match these choices" in result.output


def test_labels_for_an_unknown_school_says_so(runner: CliRunner, session: Session) -> None:
    result = runner.invoke(main, ["labels", "--school", "NOPE", "--out", "x.pdf"])

    assert result.exit_code != 0
    assert "no school with code 'NOPE'" in result.output


def test_a_config_mistake_stops_the_command_naming_the_key(
    runner: CliRunner, tmp_path: Path
) -> None:
    (tmp_path / "houqin.toml").write_text("[server]\nprot = 1\n")

    result = runner.invoke(main, ["labels", "--school", "X", "--out", "x.pdf"])

    assert result.exit_code != 0
    assert "unknown key server.prot" in result.output


def test_the_demo_is_seeded_once_however_often_it_runs_and_prints_the_address_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run twice, the second time with a phone-reachable address (as the README says to scan
    the labels with a real phone): nothing is seeded again, and the address is printed."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HOUQIN_BASE_URL", raising=False)
    first = CliRunner().invoke(main, ["demo", "--no-serve"])
    assert first.exit_code == 0, first.output
    result = CliRunner().invoke(
        main, ["demo", "--no-serve", "--base-url", "http://192.168.1.20:8000/"]
    )
    assert result.exit_code == 0, result.output

    assert "open http://192.168.1.20:8000/ " in result.output
    assert "houqin123" in result.output
    assert "one-time sign-in code HQ7K3M9P" in result.output
    assert "district_admin" in result.output
    assert (tmp_path / "var" / "labels-SY01.pdf").is_file()
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'houqin.db'}")
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Asset)) >= 30
        assert set(session.scalars(select(Asset.kind).distinct())) == {k.value for k in AssetKind}
        # Everyone in PEOPLE, and the newcomer with a sign-in code.
        assert (
            session.scalar(select(func.count()).select_from(Person))
            == len(PEOPLE) + len(DAILY_LIFE_PEOPLE) + 1
        )
        assert session.scalar(select(func.count()).select_from(Record)) > 20
        # One photo sent twice in the history: the ledger shows the flag.
        assert session.scalar(select(func.count()).where(Record.same_photo_as_id.is_not(None)))
        meat = suppliers_for(session, session.scalar(select(District.id)), "meat")
        assert [s.name for s in meat] == ["放心肉联厂"]
    engine.dispose()


def test_the_demo_serves_on_the_address_asked_for() -> None:
    settings = demo_settings(Settings(), False, "0.0.0.0", 8000, "http://192.168.1.20:8000/")
    assert settings.server.base_url == "http://192.168.1.20:8000"
    assert demo_settings(Settings(), False, "0.0.0.0", 8011).server.base_url == (
        "http://127.0.0.1:8011"
    )


def test_serve_refuses_a_database_that_was_never_upgraded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOUQIN_DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")
    monkeypatch.setenv("HOUQIN_SECRET_KEY", "x" * 32)

    result = CliRunner().invoke(main, ["serve"])

    assert result.exit_code != 0
    assert "run `houqin db upgrade` first" in result.output


def test_db_upgrade_then_add_person_makes_a_login(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'real.db'}"
    monkeypatch.setenv("HOUQIN_DATABASE_URL", url)
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    engine = make_engine(url)
    with Session(engine) as session:
        make_school(session, "SY01")
        session.commit()

    result = runner.invoke(
        main,
        [
            "add-person",
            "--username",
            "Admin",
            "--name",
            "李校长",
            "--role",
            "school_admin",
            "--school",
            "SY01",
            "--password",
            "a-long-pass",
        ],
    )

    assert result.exit_code == 0, result.output
    with Session(engine) as session:
        from models.people import authenticate

        person = authenticate(session, "admin", "a-long-pass", now=datetime.now(UTC))
        assert person is not None and person.display_name == "李校长"
    engine.dispose()


def test_a_broken_checklist_file_stops_the_upgrade_naming_file_item_and_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from models import checklists

    broken = tmp_path / "checklists"
    broken.mkdir()
    (broken / "bad.toml").write_text(
        'key = "bad"\nkind = "bus"\ntitle = { zh_CN = "坏", en = "Bad" }\n'
        '[[items]]\nkey = "q"\ntype = "pass_fail"\nlabel = { zh_CN = "问" }\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(checklists, "BUILTIN_DIR", broken)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOUQIN_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")

    result = CliRunner().invoke(main, ["db", "upgrade"])

    assert result.exit_code != 0
    assert "bad.toml: item q.label: needs a text for each of zh_CN, en" in result.output


def test_sweep_dry_run_at_a_time_shows_what_would_be_queued_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'real.db'}"
    monkeypatch.setenv("HOUQIN_DATABASE_URL", url)
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    engine = make_engine(url)
    clock = SettableClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
    with Session(engine) as session:
        school = make_school(session, "SY01")
        staff = make_person(session, clock, school, Role.INSPECTOR, "staff")
        make_asset(session, clock, school, responsible=staff)
        session.commit()
    assert runner.invoke(main, ["sweep", "--at", "2026-03-02 09:00", "--dry-run"]).exit_code == 0

    result = runner.invoke(main, ["sweep", "--at", "2026-03-25 16:30", "--dry-run"])

    assert result.exit_code == 0, result.output
    assert "Sweep at 2026-03-25 16:30 CST: 2 task(s) started" in result.output
    assert "Staff (staff) [info]: 即将到期：灭火器月度检查 · MHQ-001" in result.output
    assert "Dry run: nothing was changed." in result.output
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Task)) == 0
        assert session.scalar(select(func.count()).select_from(Notification)) == 0
    refused = runner.invoke(main, ["sweep", "--at", "2026-03-25 16:30"])
    assert refused.exit_code != 0 and "add --dry-run" in refused.output
    bad = runner.invoke(main, ["sweep", "--at", "next tuesday", "--dry-run"])
    assert bad.exit_code != 0 and "is not a time like" in bad.output

    done = runner.invoke(main, ["sweep"])
    assert done.exit_code == 0 and "2 task(s) started" in done.output
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Task)) == 2
    engine.dispose()


def test_sweep_dry_run_at_a_later_day_shows_that_day_as_if_the_scheduler_had_been_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'real.db'}"
    monkeypatch.setenv("HOUQIN_DATABASE_URL", url)
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    engine = make_engine(url)
    clock = SettableClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
    with Session(engine) as session:
        school = make_school(session, "SY01")
        staff = make_person(session, clock, school, Role.INSPECTOR, "staff")
        make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
        make_asset(session, clock, school, responsible=staff)
        session.commit()

    since = ["--since", "2026-03-02 09:00", "--dry-run"]
    due_day = runner.invoke(main, ["sweep", "--at", "2026-03-25 18:00", *since])
    next_day = runner.invoke(main, ["sweep", "--at", "2026-03-26", *since])

    assert due_day.exit_code == 0, due_day.output
    assert "the scheduler running from 2026-03-02 09:00" in due_day.output
    assert "16:00 Staff (staff) [info]: 即将到期：灭火器月度检查" in due_day.output
    assert "17:00 Staff (staff) [info]: 现在到期：灭火器月度检查" in due_day.output
    assert "07:30 Admin (admin) [info]: 实验小学今日概况" in due_day.output
    assert "暂停" not in due_day.output  # no catch-up summary: the scheduler was running
    assert next_day.exit_code == 0, next_day.output
    assert "17:00 Admin (admin) [major]: 实验小学逾期" in next_day.output
    assert "即将到期" not in next_day.output  # sent the day before
    assert "Sweep at 2026-03-26 23:59 CST" in next_day.output  # a bare date: its whole day
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Task)) == 0
    engine.dispose()


def test_the_bot_without_a_token_says_what_is_missing_and_that_the_rest_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HOUQIN_TELEGRAM_TOKEN", raising=False)

    result = CliRunner().invoke(main, ["bot"])

    assert result.exit_code != 0
    assert "no telegram.token is set" in result.output
    assert "notices wait in the web inbox" in result.output
