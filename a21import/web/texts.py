"""Every word the page shows, in English here and translated through the catalogue (i18n): the
templates say `{{ t.nav_apps }}`, the page's script reads `JS` from a JSON block. (The catalogue is
extracted from Python files only, so the templates hold no sentence of their own.)"""

from __future__ import annotations

from typing import Any

from a21import.i18n import N_, _, ngettext
from a21import.statuses import is_ended
from a21import.statuses import label as status_label

MESSAGES = {
    "skip_to_content": N_("Skip to the content"), "menu": N_("Menu"), "running": N_("running"),
    "nav_apps": N_("Apps"), "nav_import": N_("Import"), "nav_job": N_("Import in progress"),
    "nav_policies": N_("Policies"), "nav_renewals": N_("Renewals"), "nav_due": N_("Installments due"),
    # apps
    "apps_title": N_("Apps open in the browser"),
    "apps_hint": N_("This list looks at the browser again every few seconds: log in or switch the identity in the "
                    "app's tab and it changes here."),
    "no_app_open": N_("No tab of a supported app is open in the browser. Open one of them in the browser and log in."),
    "looking": N_("Looking at the browser's tabs…"), "supported_apps": N_("Supported apps:"),
    "logged_in": N_("Logged in."), "not_logged_in": N_("Not logged in."),
    "tab_problem": N_("Problem."), "section": N_("Section"), "identity": N_("Identity"),
    "import_from_tab": N_("Import a period from this tab"),
    # import
    "import_title": N_("Import policies"), "period_title": N_("Import a period"), "app": N_("App"),
    "any_open_app": N_("The app open in the browser"), "system_or_section": N_("System or section"),
    "as_the_tab_shows": N_("As the tab shows"), "date_from": N_("First issue date"),
    "date_to": N_("Last issue date"),
    "windows_hint": N_("Any length: a long period is read in windows of 16 days. Before anything is read you confirm "
                       "the identity or section, then choose the policies."),
    "list_policies": N_("List the policies"), "one_policy_title": N_("One policy, refresh"),
    "policy_number": N_("Policy number"), "import_by_number": N_("Import by number"),
    "stored_number": N_("Number of a stored policy"), "refresh_stored": N_("Refresh from the app"),
    "due_within_days": N_("Installments due within (days)"),
    "refresh_due": N_("Refresh every policy with an installment due"),
    "job_running": N_("An import is running."), "see_job": N_("Follow it"),
    # the job
    "job_title": N_("Import in progress"), "no_job": N_("No import was started since a21import ui started."),
    "start_import": N_("Start one"), "stop": N_("Stop"), "retry_failed": N_("Retry the failed ones"),
    # tables
    "number": N_("Number"), "insurer": N_("Insurer"), "issued": N_("Issued"), "premium": N_("Premium"),
    "product": N_("Product"), "policyholder": N_("Policyholder"), "status": N_("Status"), "cover": N_("Cover"),
    "registration": N_("Registration"), "actions": N_("Actions"), "refresh": N_("Refresh"),
    "ends": N_("Ends"), "when": N_("When"), "phone": N_("Phone"), "email": N_("E-mail"), "due_date": N_("Due"),
    "amount": N_("Amount"), "paid": N_("Paid"),
    # the stored policies
    "policies_title": N_("Stored policies"), "renewals_title": N_("Renewals"),
    "due_title": N_("Installments due"), "search": N_("Search"),
    "search_placeholder": N_("number, name, PESEL, NIP, registration, VIN"), "all": N_("All"),
    "issued_from": N_("Issued from"), "issued_to": N_("Issued to"), "days_ahead": N_("Days ahead"),
    "show_ended": N_("Show cancelled and ended policies too"), "show": N_("Show"),
    "export_xlsx": N_("Export this list to Excel (xlsx)"),
    # one policy
    "policy": N_("Policy"), "back_to_policies": N_("Stored policies"), "imported": N_("Imported"), "agent": N_("Agent"), "imported_by": N_("Imported by"),
    "insured": N_("Insured person"), "vehicle": N_("Vehicle"), "make_model": N_("Make and model"),
    "production_year": N_("Production year"), "coverages": N_("Coverages"), "code": N_("Code"), "risk": N_("Risk"),
    "sum_insured": N_("Sum insured"), "installments": N_("Installments"),
    "no_coverages": N_("The app listed no coverages for this policy."),
    "no_installments": N_("The app listed no installments for this policy."),
}

# What the page's script shows (it builds the questions and the live rows as text).
JS = {
    "yes_right": N_("Yes, this is right"), "no_other": N_("No, I need another identity"),
    "look_again": N_("Done, look at the browser again"), "stop": N_("Stop"), "choose": N_("Choose"),
    "switch_title": N_("Do this in the app's tab, then come back here:"),
    "confirm_title": N_("Is this the right app and identity?"),
    "select_title": N_("Choose the policies to import"),
    "select_all": N_("Select all"), "select_none": N_("Select none"), "select_new": N_("Only new"),
    "filter": N_("Filter the list"), "chosen": N_("Chosen: {chosen} of {total}"),
    "import_chosen": N_("Import the chosen policies"),
    "new_policies": N_("New policies"), "other_policies": N_("Listed, but not to be imported"),
    "stored_policies": N_("Already stored (check one to read it again)"),
    "progress": N_("Read: {done} of {total}"), "sort_by": N_("Sort by {column}"),
    "number": N_("Number"), "insurer": N_("Insurer"), "issued": N_("Issued"), "premium": N_("Premium"),
    "product": N_("Product"), "policyholder": N_("Policyholder"), "status": N_("Status"),
    "choose_row": N_("Import {number}"),
}


class Texts:
    """`t.name` in a template: the message in the chosen language; an unknown name is a bug (KeyError)."""

    def __getattr__(self, name: str) -> str:
        return _(MESSAGES[name])


def js_texts() -> dict[str, str]:
    return {key: _(message) for key, message in JS.items()}


def when(status: str | None, days_left: int) -> str:
    """How far off a date is; a cancelled or ended policy's status instead."""
    if is_ended(status):
        return status_label(status)
    if days_left < 0:
        return ngettext("overdue by {count} day", "overdue by {count} days", -days_left).format(count=-days_left)
    if days_left == 0:
        return _("today")
    return ngettext("in {count} day", "in {count} days", days_left).format(count=days_left)


def installment_state(paid: bool, days_left: int) -> str:
    if paid:
        return _("paid")
    if days_left < 0:
        return ngettext("unpaid, overdue by {count} day", "unpaid, overdue by {count} days", -days_left).format(
            count=-days_left)
    return _("unpaid")


def client_fields(client: dict[str, Any]) -> list[tuple[str, str]]:
    town = " ".join(part for part in (client.get("postal_code"), client.get("city")) if part)
    address = ", ".join(part for part in (client.get("street"), town) if part)
    pairs = [(_("Name"), client.get("name")), ("PESEL", client.get("pesel")), ("NIP", client.get("nip")),
             ("REGON", client.get("regon")), (_("Address"), address), (_("Phone"), client.get("phone")),
             (_("E-mail"), client.get("email"))]
    if client.get("ids_invalid"):
        pairs.append((_("Check"), _("The checksum of {ids} fails; it is stored as the app gave it.").format(
            ids=client["ids_invalid"])))
    return [(label, str(value)) for label, value in pairs if value not in (None, "")]


def count_text(view: str, rows: list[Any], days: int | None) -> str:
    if view == "policies":
        if not rows:
            return _("No stored policy matches.")
        return ngettext("{count} policy found.", "{count} policies found.", len(rows)).format(count=len(rows))
    if view == "renewals":
        if not rows:
            return ngettext("No stored policy ends within {count} day.",
                            "No stored policy ends within {count} days.", days).format(count=days)
        return ngettext("{count} policy ends within {period}, the soonest first.",
                        "{count} policies end within {period}, the soonest first.", len(rows)).format(
            count=len(rows), period=ngettext("{count} day", "{count} days", days).format(count=days))
    if not rows:
        return ngettext("No unpaid installment is overdue or due within {count} day.",
                        "No unpaid installment is overdue or due within {count} days.", days).format(count=days)
    from a21import.formats import money

    overdue = sum(1 for row in rows if row.overdue)
    return ngettext("{count} unpaid installment ({total}), {overdue} of them overdue.",
                    "{count} unpaid installments ({total}), {overdue} of them overdue.", len(rows)).format(
        count=len(rows), total=money(sum(r.amount_gr for r in rows)), overdue=overdue)


def left_out_text(count: int) -> str:
    if not count:
        return ""
    return ngettext("{count} cancelled or ended policy was left out; tick the box above the list to see it.",
                    "{count} cancelled or ended policies were left out; tick the box above the list to see them.",
                    count).format(count=count)


def several_text(details: list[Any]) -> str:
    return _("{count} insurers use the number {number}; all are shown.").format(
        count=len(details), number=details[0].policy.number) if details else ""


def job_description(job) -> str:
    spec = job.spec
    from a21import.formats import fmt_pl_date

    if spec.kind == "period":
        return _("Policies issued from {start} to {end}.").format(start=fmt_pl_date(spec.start),
                                                                 end=fmt_pl_date(spec.end))
    if spec.kind == "policy":
        return _("The policy {number}, by its number.").format(number=spec.number)
    if spec.kind == "refresh":
        return _("The stored policy {number}, read again.").format(number=spec.number)
    return ngettext("Every stored policy with an unpaid installment due within {count} day.",
                    "Every stored policy with an unpaid installment due within {count} days.", spec.days).format(
        count=spec.days)


GLOBALS = {"when": when, "installment_state": installment_state, "client_fields": client_fields,
           "gettext": lambda message: _(message)}
