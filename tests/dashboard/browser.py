"""Headless Debian chromium driven by Selenium (chromium-driver), as a proctor would use it.

Every test's browser fails on a console error (``assert_clean``) and leaves a screenshot
behind when its test fails (the ``browsers`` fixture in conftest.py).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,1000",
    "--autoplay-policy=no-user-gesture-required",
]


def _find(names: list[str], fallbacks: list[str]) -> str | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return next((p for p in fallbacks if os.access(p, os.X_OK)), None)


def find_chromium() -> tuple[str, str]:
    """(chromium, chromedriver) from Debian's packages; skip, or fail under CI."""
    browser = _find(["chromium", "chromium-browser"], ["/usr/lib/chromium/chromium"])
    driver = _find(["chromedriver"], ["/usr/lib/chromium/chromedriver"])
    if browser and driver:
        return browser, driver
    if os.environ.get("CI") == "true":
        pytest.fail("chromium/chromium-driver missing: CI must run scripts/ensure_browser.sh")
    pytest.skip("chromium and chromium-driver are not installed (scripts/ensure_browser.sh)")


class Browser:
    def __init__(self, base_url: str, name: str = "browser") -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        binary, driver = find_chromium()
        self.name = name
        self.base = base_url.rstrip("/")
        self.profile = Path(tempfile.mkdtemp(prefix="facegate-chromium-"))
        options = webdriver.ChromeOptions()
        options.binary_location = binary
        for flag in FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={self.profile}")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(driver), options=options)
        self.driver.set_page_load_timeout(60)
        self.allowed: list[str] = []  # console errors a test expects (a restart's refused stream)
        self.errors: list[str] = []

    def get(self, path: str) -> None:
        self.driver.get(self.base + path)

    def login(self, name: str, password: str) -> None:
        from selenium.webdriver.common.by import By

        self.get("/login")
        self.driver.find_element(By.NAME, "name").send_keys(name)
        self.driver.find_element(By.NAME, "password").send_keys(password)
        self.driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        self.wait(lambda: "/login" not in self.driver.current_url or self.css("#login-error"))

    def css(self, selector: str):
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def one(self, selector: str):
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def wait(self, predicate: Callable[[], object], timeout: float = 20.0, what: str = ""):
        deadline = time.monotonic() + timeout
        last_exc: Exception | None = None
        while time.monotonic() < deadline:
            try:
                value = predicate()
                if value:
                    return value
            except Exception as exc:  # a stale element while htmx swaps it
                last_exc = exc
            time.sleep(0.1)
        raise AssertionError(f"{self.name}: waited {timeout} s for {what or predicate}: {last_exc}")

    def console(self) -> list[str]:
        """Console errors since the last call (SEVERE), less the ones a test allowed."""
        for entry in self.driver.get_log("browser"):
            if entry["level"] == "SEVERE" and not any(a in entry["message"] for a in self.allowed):
                self.errors.append(entry["message"])
        return self.errors

    def assert_clean(self) -> None:
        errors = self.console()
        assert not errors, f"{self.name}: browser console errors:\n" + "\n".join(errors)

    def screenshot(self, path: Path) -> None:
        self.driver.save_screenshot(str(path))

    def quit(self) -> None:
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)
