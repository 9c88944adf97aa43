"""Drives the console in headless Chromium (selenium over Debian's chromium-driver) for
console_browser.rs. `python3 console_browser.py SCENARIO PARAMS_JSON`; prints what it saw as
JSON (with `failed_waiting_for` and the page's text when something never appeared).

deploy: sees the API the test made with the aws CLI on the landing page, opens it, deploys
  it to `prod`, runs a test invoke of GET /pets, sends one real request to the stage and
  waits until the stage's live figures count it; then deploys a canary (25%), sets it to
  50%, promotes it, and rolls the stage back to the first deployment.
pages: by a name that is not loopback's (so the console asks for a login: a wrong secret
  refused, then the right one), deploys an HTTP API from the console, follows a REST stage's
  access log, invokes a function and follows its log, charts an API key's usage, and logs
  out."""

import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

import browser_harness
from browser_harness import WAIT, fresh, params, seen

endpoint = params["endpoint"]
resolve = []
if "host" in params:
    # The name resolves to the gateway's loopback address inside the browser only.
    endpoint = endpoint.replace("127.0.0.1", params["host"])
    resolve = [f"--host-resolver-rules=MAP {params['host']} 127.0.0.1",
               "--disable-features=HttpsUpgrades"]
driver = browser_harness.start(resolve)


def wait_for(what, condition):
    return browser_harness.wait_for(driver, what, condition)


def text_of(css):
    def read():
        found = driver.find_elements(By.CSS_SELECTOR, css)
        return found[0].get_attribute("textContent") if found else ""
    return fresh(read)


def open_page(hash_path):
    driver.get(f"{endpoint}/_tollgate/{hash_path}")


def api_link(name):
    return wait_for(f"{name} on the landing page", lambda d: next(
        (a for a in d.find_elements(By.CSS_SELECTOR, "a.api-link") if a.text == name), None))


def deploy(stage_name, canary=None):
    stage = wait_for("the deploy form", lambda d: d.find_element(By.ID, "deploy-stage"))
    stage.clear()
    stage.send_keys(stage_name)
    if canary is not None:
        driver.find_element(By.NAME, "canaryPercent").send_keys(canary)
    driver.find_element(By.ID, "deploy").click()
    wait_for("the deployment", lambda d: "Deployed" in text_of("p.flash"))
    wait_for(f"the {stage_name} stage",
             lambda d: d.find_elements(By.CSS_SELECTOR, f"div.card.stage[data-stage='{stage_name}']"))
    return text_of("p.flash")


def deploy_scenario():
    open_page("")
    link = api_link(params["api_name"])
    seen["landing"] = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "a.api-link")]
    driver.save_screenshot(params["landing_shot"])
    link.click()
    wait_for("the resources", lambda d: "/pets" in text_of("ul.tree"))
    seen["resources"] = text_of("ul.tree")
    seen["deployed"] = deploy("prod")

    Select(driver.find_element(By.ID, "test-method")).select_by_visible_text("GET /pets")
    driver.find_element(By.ID, "test-run").click()
    wait_for("the test invoke", lambda d: "Status" in text_of("#test-status"))
    seen["test_status"] = text_of("#test-status")
    seen["test_response"] = text_of("#test-response")
    seen["test_log"] = text_of("#test-log")

    with urllib.request.urlopen(f"{endpoint}/_aws/execute-api/{params['api_id']}/prod/pets", timeout=WAIT) as r:
        seen["live_status"] = r.status
    counted = "div.card.stage[data-stage='prod'] .m-requests"
    wait_for("the request counted", lambda d: text_of(counted) == "1")
    seen["counted"] = text_of(counted)
    driver.execute_script("window.scrollTo(0, 0)")
    driver.save_screenshot(params["shot"])

    card = "div.card.stage[data-stage='prod']"
    seen["first_deployment"] = seen["deployed"].split()[1]
    seen["canary_deployed"] = deploy("prod", canary="25")
    wait_for("the canary", lambda d: "25% of requests" in text_of(card))
    press(card, "Set", before=lambda c: fill(c.find_element(By.CSS_SELECTOR, "input[type=number]"), "50"))
    wait_for("the canary at 50%", lambda d: "50% of requests" in text_of(card))
    seen["canary_set"] = text_of(card)
    press(card, "Promote")
    wait_for("the canary promoted", lambda d: "promoted" in text_of("p.flash"))
    seen["promoted"] = text_of(card)
    fresh(lambda: Select(driver.find_element(By.CSS_SELECTOR, f"{card} select"))
          .select_by_value(seen["first_deployment"]))
    press(card, "Roll back")
    wait_for("the rollback", lambda d: "now serves" in text_of("p.flash"))
    seen["rolled_back"] = text_of("p.flash")


def fill(field, value):
    field.clear()
    field.send_keys(value)


def press(scope, label, before=None):
    """Clicks the button `label` inside the element `scope` (after `before(element)`)."""
    def act():
        element = driver.find_element(By.CSS_SELECTOR, scope)
        if before:
            before(element)
        next(b for b in element.find_elements(By.TAG_NAME, "button") if b.text == label).click()
    fresh(act)


def log_in(secret):
    form = wait_for("the login form", lambda d: d.find_element(By.NAME, "accessKeyId"))
    form.clear()
    form.send_keys(params["key"])
    field = driver.find_element(By.NAME, "secretAccessKey")
    field.clear()
    field.send_keys(secret)
    field.submit()


def pages_scenario():
    open_page("")
    log_in("not-the-secret")
    wait_for("the login refused", lambda d: "not valid" in text_of("section.login .error"))
    seen["login_refused"] = text_of("section.login .error")
    log_in(params["secret"])
    wait_for("the session", lambda d: params["key"] in text_of("#who"))
    seen["who"] = text_of("#who")
    seen["cookies"] = [{k: c.get(k) for k in ("name", "httpOnly", "sameSite", "path")} for c in driver.get_cookies()]
    api_link(params["http_name"]).click()
    wait_for("the routes", lambda d: "GET /pets" in text_of("section table"))
    seen["routes"] = text_of("section table")
    seen["http_deployed"] = deploy("live")

    open_page(f"#/rest/{params['rest_id']}")
    button = wait_for("the access log button", lambda d: next(
        (b for b in d.find_elements(By.CSS_SELECTOR, "div.card.stage[data-stage='prod'] button")
         if b.text == "Access log"), None))
    button.click()
    # Lines are written in the background: wait for all of them.
    wait_for("the access log lines", lambda d: text_of("pre[data-log='access']").count(params["access_marker"])
             >= params["access_lines"])
    seen["access_log"] = text_of("pre[data-log='access']")

    open_page("#/functions")
    wait_for("the function list", lambda d: d.find_elements(By.LINK_TEXT, params["function"])).pop().click()
    payload = wait_for("the invoke panel", lambda d: d.find_element(By.ID, "invoke-payload"))
    payload.clear()
    payload.send_keys('{"from": "console"}')
    driver.find_element(By.ID, "invoke-run").click()
    wait_for("the invocation's result", lambda d: text_of("#invoke-result"))
    seen["invoke_result"] = text_of("#invoke-result")
    seen["invoke_log"] = text_of("#invoke-log")
    wait_for("the function log", lambda d: params["function_marker"] in text_of("pre[data-log='function']"))
    seen["function_log"] = text_of("pre[data-log='function']")

    open_page("#/keys")
    wait_for("the usage chart", lambda d: d.find_elements(By.CSS_SELECTOR, "svg.chart rect"))
    seen["keys"] = text_of("main")
    seen["bars"] = [t.get_attribute("textContent") for t in driver.find_elements(By.CSS_SELECTOR, "svg.chart text")]

    driver.find_element(By.CSS_SELECTOR, "#who button").click()
    wait_for("the login form after logging out", lambda d: d.find_elements(By.NAME, "accessKeyId"))
    seen["cookies_after_logout"] = [c["name"] for c in driver.get_cookies()]


# The 401s of asking who we are before logging in, and of the wrong secret, are expected.
browser_harness.run(driver, {"deploy": deploy_scenario, "pages": pages_scenario},
                    lambda message: "status of 401" in message)
