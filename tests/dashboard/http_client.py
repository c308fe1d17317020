"""A plain HTTP client with cookies (urllib): what a script or an attacker would send."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass


@dataclass
class Reply:
    status: int
    body: str
    headers: dict[str, str]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class HttpSession:
    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )

    def request(
        self, method: str, path: str, fields: dict | None = None, headers: dict | None = None
    ) -> Reply:
        data = urllib.parse.urlencode(fields).encode() if fields is not None else None
        req = urllib.request.Request(
            self.base + path, data=data, method=method, headers=headers or {}
        )
        try:
            with self.opener.open(req, timeout=30) as r:
                return Reply(r.status, r.read().decode(errors="replace"), dict(r.headers))
        except urllib.error.HTTPError as e:
            return Reply(e.code, e.read().decode(errors="replace"), dict(e.headers))

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post(self, path: str, fields: dict, headers: dict | None = None) -> Reply:
        return self.request("POST", path, fields, headers)

    def login(self, name: str, password: str) -> Reply:
        page = self.get("/login")
        token = re.search(r'name="login_token" value="([^"]+)"', page.body)
        assert token, page.body[:500]
        return self.post(
            "/login", {"name": name, "password": password, "login_token": token.group(1)}
        )

    def csrf(self) -> str:
        found = re.search(r'data-csrf="([^"]*)"', self.get("/").body)
        assert found and found.group(1), "no CSRF token on the page"
        return found.group(1)
