"""Drives the developer portal in headless Chromium for portal.rs.
`python3 portal_browser.py SCENARIO PARAMS_JSON`, on browser_harness.py.

consumer: finds the API the test published on the catalogue, signs up, creates an API key
  on the published plan (its value shown once), tries the API's operation from its page
  ("Try it": the portal calls the stage with the key), calls the API with the key itself, and
  waits until the key's usage page counts both calls."""

import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

import browser_harness
from browser_harness import WAIT, params, seen

portal = params["portal"]
driver = browser_harness.start()


def wait_for(what, condition):
    return browser_harness.wait_for(driver, what, condition)


def click_link(text):
    wait_for(f"the link {text!r}", lambda d: d.find_element(By.LINK_TEXT, text)).click()


def click_button(text):
    wait_for(f"the button {text!r}", lambda d: next(
        (b for b in d.find_elements(By.TAG_NAME, "button") if b.text == text), None)).click()


def consumer_scenario():
    driver.get(f"{portal}/")
    click_link(params["api_name"])
    seen["api_page"] = wait_for("the API page", lambda d: d.find_element(By.TAG_NAME, "main")).text
    click_link("Sign up")
    driver.find_element(By.NAME, "email").send_keys(params["email"])
    driver.find_element(By.NAME, "password").send_keys(params["password"])
    click_button("Sign up")
    wait_for("signed in", lambda d: params["email"] in d.find_element(By.TAG_NAME, "header").text)
    click_link(params["api_name"])
    Select(wait_for("the plan choice", lambda d: d.find_element(By.NAME, "planId"))) \
        .select_by_visible_text(params["plan_name"])
    click_button("Create API key")
    key = wait_for("the new key", lambda d: d.find_element(By.ID, "new-key")).text
    seen["key"] = key
    driver.save_screenshot(params["shot"])

    click_button("Try it")
    seen["try_status"] = wait_for("the answer of Try it",
                                  lambda d: d.find_element(By.ID, "try-status")).text
    seen["try_body"] = driver.find_element(By.ID, "try-body").text
    driver.save_screenshot(params["try_shot"])

    request = urllib.request.Request(params["invoke_url"], headers={"x-api-key": key})
    with urllib.request.urlopen(request, timeout=WAIT) as r:
        seen["call_status"] = r.status

    click_link("Usage")

    def counted(d):
        used = d.find_elements(By.CSS_SELECTOR, "td.used")
        if used and used[-1].text == "2":
            return True
        d.refresh()  # the page is rendered on the server: read it again
        return False
    wait_for("both calls counted on the usage page", counted)
    seen["usage"] = driver.find_element(By.TAG_NAME, "main").text
    seen["bars"] = len(driver.find_elements(By.CSS_SELECTOR, "svg.chart rect"))


browser_harness.run(driver, {"consumer": consumer_scenario}, lambda m: "favicon.ico" in m)
