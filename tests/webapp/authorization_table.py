"""Who may do what: for every route of the web app, who is let in on their own school's rows,
and what everyone else gets. tests/webapp/test_authorization.py asks every route as every
role and checks the answer against this table; a route with no entry fails it.

The rules, in short (the README's "Who may see and do what" says them in prose):
- Nobody logged in is sent to log in (LOGIN), except on a label's page, the problem report,
  the offline pages and the scripts (PUBLIC).
- A school's or its rows' pages answer 404 to anyone who has no role at that school and is not
  an administrator of its district, as if they did not exist; so does a page a role may not
  use (an administrator's), unless `refused` says otherwise.
- `scoped` routes name a school or one of its rows; the others (the inbox, the district's
  dashboard) show each reader their own.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.webapp.authorization_world import ANONYMOUS, DISTRICT_ADMIN, SCHOOL_ROLES

OK = "ok"
LOGIN = "login"
NOT_FOUND = "404"
FORBIDDEN = "403"


@dataclass(frozen=True)
class Access:
    """Who is let in on their own school's rows; what a role not let in gets (`refused`);
    what nobody logged in gets when not let in (`anonymous`)."""

    who: frozenset[str]
    refused: str = NOT_FOUND
    scoped: bool = True
    anonymous: str = LOGIN
    # The row is the reader's own (a notice, a login): anyone else's is not there (404).
    mine: bool = False
    # What a role not let in gets on another school's row, when not `refused` (a label of
    # another school is not there for anyone, whatever its checklist says).
    refused_elsewhere: str | None = None


def _roles(*names: str) -> frozenset[str]:
    return frozenset(names)


STAFF = _roles(*SCHOOL_ROLES, DISTRICT_ADMIN)
PUBLIC = STAFF | {ANONYMOUS}
ADMINS = _roles("school_admin", DISTRICT_ADMIN)
DISTRICT = _roles(DISTRICT_ADMIN)
# A person's health certificate: its holder (the world's is a canteen worker's), the school's
# food-safety officer and administrators, the district's administrators.
CERTIFICATE = _roles("canteen_staff", "food_safety_officer", *ADMINS)

_everyone = Access(STAFF, scoped=False)
_own_school = Access(STAFF)
_admins = Access(ADMINS)
_admins_anywhere = Access(ADMINS, scoped=False)
_district = Access(DISTRICT)
_district_anywhere = Access(DISTRICT, scoped=False)
_certificate = Access(CERTIFICATE)

TABLE: dict[str, Access] = {
    # Corrective actions: each reader's own list; an action of their school.
    "actions.list_actions": _everyone,
    "actions.show_action": _own_school,
    # The school's administration (管理), imports, labels.
    "admin.confirm_import": _admins,
    "admin.edit_asset": _admins,
    "admin.home": _admins,
    "admin.import_template": _admins,
    "admin.import_template_xlsx": _admins,
    "admin.list_assets": _admins,
    "admin.list_locations": _admins,
    "admin.list_people": _admins,
    "admin.new_asset": _admins,
    "admin.new_person": _admins,
    "admin.preview_upload": _admins,
    "admin.retire": _admins,
    "admin.set_school_boarding": _admins,
    "admin.show_person": _admins,
    "admin.start_import": _admins,
    # Where a school is and what stage it teaches: the district decides.
    "admin.set_school_position_page": _district,
    "admin.set_school_stage": _district,
    "labels.choose_sheet": _admins_anywhere,
    "labels.label_png": _admins,
    "labels.replace_label": _admins,
    "notice_settings.show_reach": _admins,
    "orders.add_order": _admins,
    "orders.settle_order": _admins,
    "orders.show_orders": _admins,
    "training.add_training": _admins,
    "training.show_history": _admins,
    "training.show_trainings": _admins,
    "schedules.new_duty": _admins,
    "dashboard.show_school": _admins,
    "dashboard.show_milk_and_energy": _admins_anywhere,
    "dashboard.show_unreported": _admins_anywhere,
    "dashboard.show_district": _admins_anywhere,
    "score.show_school": _admins,
    "score.show_ranking": _admins_anywhere,
    # The district's own: checklists, the calendar, schedules, the score scheme, suppliers.
    "checklists.build_checklist": _district_anywhere,
    "checklists.build_new_checklist": _district_anywhere,
    "checklists.edit_checklist": _district_anywhere,
    "checklists.new_checklist": _district_anywhere,
    "checklists.save_roles": _district_anywhere,
    "schedules.delete_calendar_entry": _district,
    "schedules.edit_duty": _district,
    "score.edit_scheme": _district_anywhere,
    "score.export_year": _district_anywhere,
    "score.publish": _district_anywhere,
    "registers.add_supplier": _district,
    "registers.edit_supplier": _district,
    # Notice groups (robots): a role that may not use them is told so (403), on any group.
    "channel_groups.add": Access(ADMINS, refused=FORBIDDEN, scoped=False),
    "channel_groups.list_groups": Access(ADMINS, refused=FORBIDDEN, scoped=False),
    "channel_groups.disable": Access(ADMINS, refused=FORBIDDEN),
    "channel_groups.send_test": Access(ADMINS, refused=FORBIDDEN),
    # One's own login, password, language, chat and notice settings.
    "audit.show_log": _district,
    "auth.change_password": _everyone,
    "auth.end_one_session": Access(STAFF, mine=True),
    "auth.end_other_sessions": _everyone,
    "auth.list_sessions": _everyone,
    "auth.login": Access(PUBLIC, scoped=False),
    # Logging out sends everyone to the login page.
    "auth.logout": Access(frozenset(), refused=LOGIN, scoped=False),
    "auth.set_language": Access(PUBLIC, scoped=False),
    "chats.make_code": _everyone,
    "chats.show": _everyone,
    "chats.unlink": _everyone,
    "inbox.open_notice": Access(STAFF, mine=True),
    "inbox.show_inbox": _everyone,
    "notice_settings.save_choices": _everyone,
    "notice_settings.save_email": _everyone,
    "notice_settings.show_settings": _everyone,
    # What every role at a school reads: checklists, ledgers, reports, registers, tasks, trips.
    "checklists.list_checklists": _everyone,
    "checklists.show_checklist": _everyone,
    "ledgers.district_register": _everyone,
    "ledgers.district_register_excel": _everyone,
    "ledgers.district_register_pdf": _everyone,
    "ledgers.district_register_print": _everyone,
    "ledgers.excel": _everyone,
    "ledgers.pdf": _everyone,
    "ledgers.print_ledger": _everyone,
    "ledgers.show_ledger": _everyone,
    "ledgers.excel_school": _own_school,
    "ledgers.pack_pdf": _own_school,
    "ledgers.pack_zip": _own_school,
    "ledgers.pdf_school": _own_school,
    "ledgers.print_school": _own_school,
    "ledgers.school_register": _own_school,
    "ledgers.school_register_excel": _own_school,
    "ledgers.school_register_pdf": _own_school,
    "ledgers.school_register_print": _own_school,
    "ledgers.show_ledger_school": _own_school,
    "records.home": _everyone,
    "records.photo": _own_school,
    "records.show_record": _own_school,
    "records.thumbnail": _own_school,
    "registers.show_register": _own_school,
    "reports.list_reports": _own_school,
    "reports.pdf_day": _own_school,
    "reports.pdf_family_report": _own_school,
    "reports.pdf_report": _own_school,
    "reports.print_day": _own_school,
    "reports.print_family_report": _own_school,
    "reports.print_report": _own_school,
    "reports.show_day": _own_school,
    "reports.show_family_report": _own_school,
    "reports.show_report": _own_school,
    "reports.show_statuses": _everyone,
    "samples.dispose": _own_school,
    "schedules.calendar": _own_school,
    "schedules.list_schedules": _own_school,
    "schedules.list_tasks": _everyone,
    "trips.show_trips": _own_school,
    # A staff member's health certificate, its page and scan (models/documents.py).
    "registers.show_document": _certificate,
    "registers.document_file": _certificate,
    "registers.document_thumbnail": _certificate,
    "registers.find_document": _certificate,
    "registers.add_document": _admins,
    "registers.renew_document": _admins,
    # A label: its page for anyone (the public one for nobody logged in); filing a check for
    # the roles its checklist names (an extinguisher's: inspectors), others told so (403).
    "scan.show_asset": Access(PUBLIC),
    "scan.report_problem": Access(PUBLIC, scoped=False),
    "scan.show_reported": Access(PUBLIC, scoped=False),
    "scan.file_record": Access(
        _roles("inspector", *ADMINS), refused=FORBIDDEN, refused_elsewhere=NOT_FOUND
    ),
    # A bus's rear label: the escort teacher's walk to the back.
    "scan.confirm_rear": Access(
        _roles("teacher", *ADMINS), refused=FORBIDDEN, refused_elsewhere=NOT_FOUND
    ),
    "scan.show_offline": Access(PUBLIC, scoped=False),
    "scan.show_pending": Access(PUBLIC, scoped=False),
    "serve_script": Access(PUBLIC, scoped=False),
    "serve_worker": Access(PUBLIC, scoped=False),
    # Flask's own static route: Houqin has no static folder, so nothing is there for anyone.
    "static": Access(frozenset(), scoped=False, anonymous=NOT_FOUND),
}
