"""Who may do what: each attack first, then the refusal (a real dashboard, broker, browser)."""

from __future__ import annotations

from tests.dashboard.conftest import PASSWORDS, db_rows
from tests.dashboard.http_client import HttpSession


def test_login_refusals_rate_limit_sessions_csrf_and_roles(dash_broker, dashboards, browsers):
    dash = dashboards(dash_broker)
    dash.add_users()
    dash.start()

    # A wrong password, in the browser: refused, no session.
    b = browsers(dash.url, "wrong-password")
    b.login("admin", "not-the-password")
    assert b.one("#login-error").text == "Wrong name or password."
    assert "/login" in b.driver.current_url
    b.get("/")
    assert b.css("input[name=password]"), "a page was shown without a session"
    b.allowed.append("401 (Unauthorized)")  # the refused login and page load, as intended

    # No session: 401 on pages, the stream, CSV, and every POST.
    anon = HttpSession(dash.url)
    for path in ("/", "/alarms", "/history.csv", "/stream", "/diagnostics", "/audit"):
        assert anon.get(path).status == 401, path
    assert anon.post("/commands", {"cmd": "unlock", "device_id": "door-1"}).status == 401

    # Rate limit: five wrong passwords for a name, then even the right one waits (429).
    guesser = HttpSession(dash.url)
    statuses = [guesser.login("office", f"guess-{i}-wrong").status for i in range(5)]
    assert statuses == [401] * 5
    blocked = guesser.login("office", PASSWORDS["office"])
    assert blocked.status == 429 and "Too many failed sign-ins" in blocked.body

    # A login form posted without its token (login CSRF): refused.
    forged_login = HttpSession(dash.url).post(
        "/login", {"name": "admin", "password": PASSWORDS["admin"]}
    )
    assert forged_login.status == 403

    # A proctor signs in; without the CSRF token a POST is refused (403), with it the proctor
    # may acknowledge alarms but a forged command is still 403, and nothing is sent.
    proctor = HttpSession(dash.url)
    assert proctor.login("proctor", PASSWORDS["proctor"]).status == 303
    assert proctor.get("/").status == 200
    no_token = proctor.post("/alarms/snooze", {"door": "door-1", "minutes": "5"})
    assert no_token.status == 403 and "CSRF" in no_token.body
    token = proctor.csrf()
    wrong_token = proctor.post("/alarms/snooze", {"door": "x", "minutes": "5", "csrf": "x" * 43})
    assert wrong_token.status == 403
    forged = proctor.post(
        "/commands", {"cmd": "unlock", "device_id": "door-1", "seconds": "5", "csrf": token}
    )
    assert forged.status == 403 and "exam_office" in forged.body
    forged_confirm = proctor.post("/commands/confirm", {"token": "anything", "csrf": token})
    assert forged_confirm.status == 403
    # A command's answer is for those who may command, polled or streamed.
    assert proctor.get("/commands/" + "0" * 32 + "/status").status == 403
    assert (
        proctor.post(
            "/users", {"name": "eve", "role": "admin", "password": "x" * 12, "csrf": token}
        ).status
        == 403
    )
    assert proctor.get("/attendance").status == 403
    assert proctor.get("/diagnostics").status == 403
    cross_site = proctor.post(
        "/alarms/snooze",
        {"door": "x", "minutes": "1", "csrf": token},
        headers={"Origin": "https://evil.example"},
    )
    assert cross_site.status == 403
    assert db_rows(dash.database_url(), "SELECT count(*) FROM commands")[0][0] == 0
    assert db_rows(dash.database_url(), "SELECT count(*) FROM users")[0][0] == 3

    # Cookies: HttpOnly, SameSite=Strict; every page has a strict CSP and no inline script.
    page = proctor.get("/")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script>" not in page.body and " on" + "click=" not in page.body
    signed_in = HttpSession(dash.url)
    token_page = signed_in.get("/login")
    assert "httponly" in token_page.headers["set-cookie"].lower()
    reply = signed_in.login("admin", PASSWORDS["admin"])
    cookie = reply.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie

    # Sign out revokes the session on the server: the old cookie is worthless.
    stolen = list(signed_in.jar)
    signed_in.post("/logout", {"csrf": signed_in.csrf()})
    replay = HttpSession(dash.url)
    for c in stolen:
        replay.jar.set_cookie(c)
    assert replay.get("/").status == 401
