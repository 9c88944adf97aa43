"""What the browser tests' scripts share (console_browser.py, portal_browser.py): headless
Chromium driven by selenium over Debian's chromium-driver, waits that look again when a page
re-renders, and the final report: `run(scenarios)` runs `sys.argv[1]`'s scenario with the
JSON parameters of `sys.argv[2]` and prints what it saw as JSON (with `failed_waiting_for`
and the page's text when something never appeared)."""

import json
import sys
import tempfile
import time

from selenium import webdriver
from selenium.common.exceptions import (
    StaleElementReferenceException,
    TimeoutException,
    WebDriverException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

scenario, params = sys.argv[1], json.loads(sys.argv[2])
WAIT = 30
seen = {}


def start(extra_args=()):
    options = webdriver.ChromeOptions()
    options.binary_location = params["chromium"]
    for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-extensions", "--window-size=1400,1800",
                f"--user-data-dir={tempfile.mkdtemp(prefix='tollgate-chromium-')}", *extra_args]:
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(executable_path=params["chromedriver"]), options=options)


class Stop(Exception):
    pass


def wait_for(driver, what, condition):
    # A page that re-renders (the console's live figures) may replace an element found a
    # moment ago: a wait looks again rather than failing.
    def looked(d):
        try:
            return condition(d)
        except WebDriverException as e:
            # Chromium refuses a command sent while the page navigates (a form's POST and
            # its redirect): "aborted by navigation". Look again once the page is there.
            if "aborted by navigation" in str(e):
                return False
            raise

    try:
        return WebDriverWait(driver, WAIT, ignored_exceptions=(StaleElementReferenceException,)).until(
            looked)
    except TimeoutException:
        seen["failed_waiting_for"] = what
        seen["page"] = driver.find_element(By.TAG_NAME, "body").text[-4000:]
        raise Stop()


def fresh(action):
    """Runs `action` (which finds what it acts on), again if a re-render replaced it."""
    for _ in range(20):
        try:
            return action()
        except StaleElementReferenceException:
            time.sleep(0.1)
    return action()


def run(driver, scenarios, expected_error=lambda message: False):
    """Runs the scenario asked for, then prints what was seen and the page's console errors
    (but those `expected_error` accepts)."""
    try:
        scenarios[scenario]()
    except Stop:
        pass
    finally:
        seen["console_errors"] = [e["message"] for e in driver.get_log("browser")
                                  if e["level"] == "SEVERE" and not expected_error(e["message"])]
        driver.quit()
    print(json.dumps(seen))
