"""`a21import ui`'s guard (issue 15, point 7): every wrong request is refused, in process with Starlette's
TestClient; and what the page shows from the database is text, never markup."""

from __future__ import annotations

import json
import warnings

import pytest

from a21import import db as database
from a21import.importer import Options, Row, State
from a21import.model import Client, ListedPolicy
from a21import.web import security
from a21import.web.app import Settings, create_app
from a21import.web.jobs import Job, JobSpec, WebUI
from a21import.web.server import bind
from tests.test_core import make_policy

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"
MARKUP = '<b>x</b><script>alert(1)</script>'


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / "agent21.db"
    db = database.open_db(path)
    holder = Client("company", MARKUP + " Sp. z o.o.", nip="5260250274", city="Łódź")
    database.save_policy(db, make_policy("909000000001", holder=holder))
    database.save_policy(db, make_policy("909000000002"))  # Łukasz Wójcik
    db.conn.close()
    return path


@pytest.fixture
def keys():
    return security.Keys(port=PORT)


@pytest.fixture
def app(keys, db_path):
    return create_app(Settings(cdp="http://127.0.0.1:9", db_path=db_path), keys)


@pytest.fixture
def anonymous(app):
    return TestClient(app, base_url=BASE)


@pytest.fixture
def client(app, keys):
    """A browser that opened the printed address: it holds the session cookie."""
    browser = TestClient(app, base_url=BASE)
    answer = browser.get(f"/policies?k={keys.secret}", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/policies"
    return browser


def csrf_of(client) -> str:
    page = client.get("/import")
    return page.text.split('data-csrf="', 1)[1].split('"', 1)[0]


def test_the_secret_is_exchanged_for_a_strict_cookie_and_the_address_loses_it(anonymous, keys):
    answer = anonymous.get(f"/?k={keys.secret}", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"  # the secret is gone from the address bar and the history
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(security.COOKIE + "=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert keys.secret not in cookie  # the cookie is a session of its own, not the printed secret
    assert anonymous.get("/policies").status_code == 200


def test_the_exchange_keeps_the_other_parameters_and_stays_on_this_site(anonymous, keys):
    answer = anonymous.get(f"/import?app=hestia&k={keys.secret}&source=ihestia", follow_redirects=False)
    assert answer.headers["location"] == "/import?app=hestia&source=ihestia"
    answer = anonymous.get(f"{BASE}//evil.example/x?k={keys.secret}", follow_redirects=False)
    assert answer.headers["location"] == "/evil.example/x"


@pytest.mark.parametrize("path", ["/", "/apps", "/import", "/job", "/job/events", "/policies", "/static/app.js",
                                  "/policy?number=909000000001"])
def test_every_request_without_the_session_is_refused(anonymous, path):
    assert anonymous.get(path, follow_redirects=False).status_code == 403


def test_a_wrong_secret_or_a_forged_cookie_is_refused(anonymous, keys):
    assert anonymous.get("/?k=" + keys.secret[:-1] + "x", follow_redirects=False).status_code == 403
    assert anonymous.get("/?k=", follow_redirects=False).status_code == 403
    anonymous.cookies.set(security.COOKIE, keys.secret)  # the secret itself is not a session
    assert anonymous.get("/policies").status_code == 403


@pytest.mark.parametrize("host", ["evil.example:8765", "127.0.0.1:8766", "127.0.0.1", "localhost", "[::1]:8765",
                                  "127.0.0.1:8765.evil.example", ""])
def test_another_host_header_is_refused_even_with_the_session(client, host):
    """DNS rebinding: a page on another name that resolves to 127.0.0.1 sends its own Host."""
    answer = client.get("/policies", headers={"host": host})
    assert answer.status_code == 400
    assert "Stored policies" not in answer.text


def test_localhost_with_the_port_is_served(client):
    assert client.get("/policies", headers={"host": f"localhost:{PORT}"}).status_code == 200


def test_state_changing_requests_need_the_origin_and_the_csrf_token(client):
    token = csrf_of(client)
    form = {"kind": "due", "days": "5", "csrf": token}
    # No Origin, another origin, a lookalike, and "null" (a sandboxed or file page)
    for origin in (None, "http://evil.example", f"http://127.0.0.1:{PORT}.evil.example", "null",
                   f"http://127.0.0.1:{PORT + 1}", f"https://127.0.0.1:{PORT}"):
        headers = {"origin": origin} if origin else {}
        assert client.post("/jobs", data=form, headers=headers, follow_redirects=False).status_code == 403, origin
    same = {"origin": BASE}
    assert client.post("/jobs", data={"kind": "due", "days": "5"}, headers=same).status_code == 403
    assert client.post("/jobs", data={**form, "csrf": "0" * len(token)}, headers=same).status_code == 403
    assert client.post("/job/stop", headers={**same, "x-csrf-token": "wrong"}).status_code == 403
    assert client.post("/job/answer", json={"question": 1, "value": "yes"}, headers=same).status_code == 403
    assert client.post("/export", data={"view": "policies"}, headers=same).status_code == 403
    # The right token of another session is refused too: a token is tied to its session.
    other = TestClient(client.app, base_url=BASE)
    other.get(f"/?k={client.app.keys.secret}", follow_redirects=False)
    assert csrf_of(other) != token
    assert other.post("/jobs", data=form, headers=same, follow_redirects=False).status_code == 403
    # With both, the request gets through (a bad day count is the app's own answer, not a refusal).
    answer = client.post("/jobs", data={**form, "days": "0"}, headers=same, follow_redirects=False)
    assert answer.status_code == 400 and "--days" in answer.text
    assert client.post("/job/stop", headers={**same, "x-csrf-token": token}, follow_redirects=False).status_code == 303


def test_only_get_head_and_post_exist_and_no_cors(client):
    for method in ("PUT", "DELETE", "PATCH", "OPTIONS"):
        answer = client.request(method, "/policies", headers={"origin": "http://evil.example",
                                                               "access-control-request-method": "POST"})
        assert answer.status_code == 405
        assert not [name for name in answer.headers if name.lower().startswith("access-control-")]
    answer = client.get("/export", headers={"origin": "http://evil.example"})
    assert answer.status_code == 405
    assert not [name for name in answer.headers if name.lower().startswith("access-control-")]


@pytest.mark.parametrize("path", ["/policies", "/static/app.js", "/static/app.css", "/nowhere"])
def test_every_answer_carries_the_security_headers(client, anonymous, path):
    for browser in (client, anonymous):
        headers = browser.get(path).headers
        assert headers["content-security-policy"] == (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["cache-control"] == "no-store"


def test_refused_host_answers_carry_the_headers_too(client):
    headers = client.get("/policies", headers={"host": "evil.example"}).headers
    assert headers["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in headers["content-security-policy"]


def test_no_inline_script_or_style_in_any_page(client):
    for path in ("/import", "/job", "/policies", "/renewals", "/due", "/policy?number=909000000001"):
        html = client.get(path).text
        for tag in html.split("<script")[1:]:
            head = tag.split(">", 1)[0]
            assert 'src="/static/' in head or 'type="application/json"' in head, (path, head)
        assert " style=" not in html and "<style" not in html and " onclick=" not in html
    script = client.get("/static/app.js").text
    assert "eval(" not in script and "new Function" not in script


def test_values_from_the_database_show_as_text(client):
    html = client.get("/policies").text
    assert MARKUP not in html
    assert "&lt;b&gt;x&lt;/b&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    detail = client.get("/policy?number=909000000001").text
    assert "<b>x</b>" not in detail and "&lt;b&gt;x&lt;/b&gt;" in detail


def test_search_folds_polish_letters_and_filters(client):
    html = client.get("/policies?q=lukasz+wojcik").text
    assert "909000000002" in html and "909000000001" not in html
    assert "1 policy found." in html
    assert "909000000001" in client.get("/policies?q=526-025-02-74").text  # a NIP typed with dashes
    bad = client.get("/policies?from=32.13.2026")
    assert bad.status_code == 400 and "--from" in bad.text


def test_export_writes_the_view_as_xlsx(client, tmp_path):
    from openpyxl import load_workbook

    token = csrf_of(client)
    answer = client.post("/export", data={"view": "policies", "q": "wojcik", "csrf": token}, headers={"origin": BASE})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert answer.headers["content-disposition"].startswith("attachment;")
    path = tmp_path / "x.xlsx"
    path.write_bytes(answer.content)
    sheet = load_workbook(path).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert len(values) == 2 and values[1][0] == "909000000002"


def test_server_sent_events_are_one_json_line_each(app, client):
    job = Job(JobSpec("policy", Options(cdp="http://127.0.0.1:9", db_path=app.site.settings.db_path),
                      number="1"))
    ui = WebUI(job)
    hostile = "line one\n\ndata: {\"type\": \"end\"}\r\n<script>alert(1)</script>"
    ui.note(hostile)
    ui.row_changed(Row(1, ListedPolicy(number="1", insurer="PZU", holder_name=MARKUP), State.FAILED, hostile))
    job.finished = True
    app.site.jobs.current = job
    with client.stream("GET", "/job/events") as answer:
        assert answer.headers["content-type"].startswith("text/event-stream")
        body = "".join(answer.iter_text())
    data = [line[len("data: "):] for line in body.splitlines() if line.startswith("data: ")]
    events = [json.loads(line) for line in data]
    assert [event.get("type") for event in events] == [None, "note", "row"]
    assert events[1]["text"] == hostile
    assert events[2]["row"]["holder"] == MARKUP and events[2]["row"]["reason"] == hostile


def test_the_server_listens_on_127_0_0_1_only():
    sock = bind(0)
    try:
        host, port = sock.getsockname()
        assert host == "127.0.0.1" and port > 0
    finally:
        sock.close()


def test_opening_url_carries_the_secret(keys):
    assert keys.opening_url == f"http://127.0.0.1:{PORT}/?k={keys.secret}"
    assert len(keys.secret) >= 40
    assert security.Keys().secret != keys.secret


@pytest.fixture
def polish():
    from a21import import i18n

    before = i18n.language()
    i18n.setup("pl")
    yield
    i18n.setup(before)


def test_the_page_speaks_polish_with_amounts_in_zloty_and_polish_dates(polish, client):
    html = client.get("/policies").text
    assert '<html lang="pl">' in html
    assert "Zapisane polisy" in html and "Eksportuj tę listę do Excela (xlsx)" in html
    assert "1\u00a0234,56 zł" in html  # make_policy's premium, as people write it
    assert "03.11.2026" in html and "2026-11-03</td>" not in html
    assert "ERGO Hestia" in html and ">ERGO_HESTIA<" not in html  # the insurer's name, not its code
    assert "Aktywna" in html


def test_only_one_import_runs_at_a_time(app, client):
    running = Job(JobSpec("policy", Options(cdp="http://127.0.0.1:9", db_path=app.site.settings.db_path),
                          number="1"))
    app.site.jobs.current = running  # not finished
    answer = client.post("/jobs", data={"kind": "policy", "number": "909000000001", "csrf": csrf_of(client)},
                         headers={"origin": BASE}, follow_redirects=False)
    assert answer.status_code == 409 and "still running" in answer.text
    assert app.site.jobs.current is running


def test_an_answer_to_a_question_no_longer_asked_is_refused(app, client):
    job = Job(JobSpec("policy", Options(cdp="http://127.0.0.1:9", db_path=app.site.settings.db_path), number="1"))
    app.site.jobs.current = job
    headers = {"origin": BASE, "x-csrf-token": csrf_of(client)}
    assert client.post("/job/answer", json={"question": 1, "value": "yes"}, headers=headers).status_code == 409
    assert client.post("/job/answer", content=b"not json", headers=headers).status_code == 400


# -- the job: questions block the import's thread until the page answers; Stop ends it either way ---------------
def _job(monkeypatch, coroutine_function):
    from a21import.web import jobs

    monkeypatch.setattr(jobs, "run_policy", coroutine_function)
    return Job(JobSpec("policy", Options(cdp="http://127.0.0.1:9", db_path=None), number="1"))


def _wait_for(job, kind, timeout=5.0):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if job.question is not None and job.question["kind"] == kind:
            return job.question
        time.sleep(0.01)
    raise AssertionError(f"no {kind} question")


def test_a_question_waits_for_the_page_and_an_answer_goes_on(monkeypatch):
    from a21import.importer import Summary
    from a21import.model import AppContext

    async def importer(options, ui, number):
        assert ui.confirm_context(AppContext("hestia", "agent", "Logged in as <b>agent</b>.", "MTU"))
        return Summary([])

    job = _job(monkeypatch, importer)
    job.start()
    question = _wait_for(job, "confirm")
    assert question["text"] == "Logged in as <b>agent</b>."
    assert not job.give(question["id"] + 1, "yes")  # an answer to another question is refused
    assert job.give(question["id"], "yes")
    job.join(5)
    assert job.finished and job.exit_code == 0
    assert job.events[-1]["type"] == "end" and job.events[-1]["error"] is None


def test_stop_while_a_question_waits_ends_the_job(monkeypatch):
    async def importer(options, ui, number):
        ui.select([])  # returns at once: nothing listed
        ui.wait_for_switch("Switch to MTU.")
        raise AssertionError("not reached")

    job = _job(monkeypatch, importer)
    job.start()
    _wait_for(job, "switch")
    job.stop()
    job.join(5)
    assert job.finished and job.exit_code == 2
    assert "Stopped" in job.events[-1]["error"] and job.events[-1]["stopped"]


def test_stop_while_reading_cancels_the_import_as_ctrl_c_does(monkeypatch):
    import asyncio
    import time

    from a21import.errors import Interrupted

    reached = []

    async def importer(options, ui, number):
        try:
            reached.append(True)
            await asyncio.sleep(30)
        except asyncio.CancelledError:  # as importer._run: what was read stays, the rest is not read
            raise Interrupted("Interrupted.")

    job = _job(monkeypatch, importer)
    job.start()
    while not reached:
        time.sleep(0.01)
    started = time.monotonic()
    job.stop()
    job.join(5)
    assert job.finished and job.exit_code == 130 and time.monotonic() - started < 2


def test_a_port_in_use_is_a_sentence_not_a_traceback():
    from a21import.errors import EnvironmentProblem

    taken = bind(0)
    try:
        with pytest.raises(EnvironmentProblem, match="--port 0"):
            bind(taken.getsockname()[1])
    finally:
        taken.close()


def test_the_pages_reads_beside_an_import_keep_its_locks(tmp_path):
    """`a21import ui` opens the database many times in one process while an import's connection stays open.
    Opening must never close a descriptor of the file outside SQLite (that drops every POSIX lock the process
    holds), or another program (Datasette, a script) deletes the WAL under the import: "disk I/O error"."""
    import subprocess
    import sys

    from a21import import queries

    path = tmp_path / "agent21.db"
    importing = database.open_db(path)
    database.save_policy(importing, make_policy("909000000001"))
    importing.conn.execute("SELECT count(*) FROM policies").fetchall()
    queries.open_existing(path).conn.close()  # the page reads while the import goes on
    database.open_db(path).conn.close()  # another job starting
    subprocess.run([sys.executable, "-c", f"import sqlite3; c = sqlite3.connect({str(path)!r}); "
                    "c.execute('SELECT count(*) FROM policies').fetchall(); c.close()"], check=True)
    database.save_policy(importing, make_policy("909000000002"))
    again = database.open_db(path)
    assert again.conn.execute("SELECT count(*) FROM policies").fetchone()[0] == 2
    again.conn.close()
    importing.conn.close()
