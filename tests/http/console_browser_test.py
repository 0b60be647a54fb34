#!/usr/bin/env python3
"""The analyst console in a real browser (Debian's chromium, headless, driven
by Selenium) against a running embedded node: every page loads without
console errors; the overview's charts draw; the review queue fills, an item
opens with its reasons chart, and labelling it fraud posts /feedback and the
label is stored; an invalid config edit shows the field's error and changes
nothing; the models page shows its charts; a backtest runs from the console.
A screenshot of each page goes to SCREENSHOT_DIR.

Usage: console_browser_test.py PATH_TO_VIGIL SCREENSHOT_DIR
"""
import json
import os
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from browser_support import check, embedded_node, get_json, headless_chromium, wait_until

TOKEN = "console-test-token"


def console_errors(driver, allowed=()):
    """SEVERE browser log entries, except those naming an allowed text."""
    return [e["message"] for e in driver.get_log("browser")
            if e["level"] == "SEVERE" and not any(a in e["message"] for a in allowed)]


def open_page(driver, name):
    driver.execute_script("location.hash = arguments[0]", name)
    WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, "page-" + name).is_displayed())


def main():
    vigil, shots = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    os.makedirs(shots, exist_ok=True)
    with embedded_node(vigil, 2000, {"auth_token": TOKEN}) as node:
        driver = headless_chromium()
        try:
            exercise(driver, node.base, node.work, shots)
        finally:
            driver.quit()


def exercise(driver, base, work, shots):
    """Every page, in the order an analyst meets them."""
    wait_until("/ready", lambda: get_json(base + "/ready")["ready"], 300)
    wait_until("flagged decisions", lambda: get_json(base + "/review?limit=1", TOKEN)["queued"] >= 5, 120)

    # Overview: the last hour's charts draw lines once two samples exist.
    driver.get(base + "/")
    paths = """return [...document.querySelectorAll('#page-overview .chart svg path.line')]
               .map(p => p.getAttribute('d')).filter(d => d && d.length > 10).length"""
    wait_until("overview charts", lambda: driver.execute_script(paths) >= 6, 90)
    check(driver.find_element(By.ID, "rate").text not in ("", "-"), "no throughput card")
    driver.save_screenshot(os.path.join(shots, "overview.png"))
    errors = console_errors(driver)
    check(not errors, "console errors on load: %s" % errors)

    # Review queue: the token is asked once, then the queue fills.
    open_page(driver, "queue")
    WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, "token-dialog").is_displayed())
    driver.find_element(By.ID, "token-input").send_keys(TOKEN)
    driver.find_element(By.ID, "token-submit").click()
    rows = wait_until("queue rows", lambda: driver.find_elements(By.CSS_SELECTOR, "#queue-table tr[data-id]"), 30)
    driver.find_element(By.ID, "queue-live").click()  # hold the list still while an item is labelled
    transaction_id = rows[0].get_attribute("data-id")
    check(get_json(base + "/review/" + transaction_id, TOKEN)["item"]["label"] is None, "item already labelled")
    driver.find_element(By.CSS_SELECTOR, '#queue-table tr[data-id="%s"]' % transaction_id).click()
    bars = wait_until("reasons chart", lambda: driver.find_elements(By.CSS_SELECTOR, "#reasons-chart rect"), 15)
    check(len(bars) >= 1, "the reasons chart has no bars")
    features = driver.find_elements(By.CSS_SELECTOR, "#item-features tr")
    check(len(features) > 30, "features table has %d rows" % len(features))
    driver.find_element(By.ID, "label-fraud").click()
    wait_until("label shown", lambda: "fraud" in driver.find_element(By.ID, "item-label").text, 15)
    driver.save_screenshot(os.path.join(shots, "review-queue.png"))
    stored = [json.loads(line) for line in open(os.path.join(work, "labels.jsonl")) if line.strip()]
    check(any(l["transaction_id"] == transaction_id and l["is_fraud"] and l["source"] == "analyst" for l in stored),
          "the label is not in labels.jsonl")
    label = get_json(base + "/review/" + transaction_id, TOKEN)["item"]["label"]
    check(label and label["is_fraud"], "GET /review does not show the label: %s" % label)

    # Models: the registry's versions and the served one's charts.
    open_page(driver, "models")
    wait_until("models table", lambda: driver.find_elements(By.CSS_SELECTOR, "#models-table tr[data-version]"), 15)
    wait_until("PR curve image", lambda: driver.execute_script(
        "return [...document.querySelectorAll('#model-charts img')].every(i => i.complete && i.naturalWidth > 0)"
        " && document.querySelectorAll('#model-charts img').length == 2"), 15)
    driver.save_screenshot(os.path.join(shots, "models.png"))

    # Config: an invalid edit is refused whole, its error beside the field.
    open_page(driver, "config")
    field = wait_until("config form", lambda: driver.find_element(By.ID, "cfg-decline_threshold"), 15)
    before = get_json(base + "/config")["version"]
    field.clear()
    field.send_keys("2")
    driver.find_element(By.ID, "config-save").click()
    error = wait_until("field error", lambda: driver.find_element(By.ID, "err-decline_threshold").text, 15)
    check(get_json(base + "/config")["version"] == before, "an invalid change made a new version")
    driver.save_screenshot(os.path.join(shots, "config.png"))
    print("config field error shown: " + error)

    # Backtest from the console, over the node's decisions log.
    open_page(driver, "backtest")
    wait_until("model choices", lambda: driver.find_elements(By.CSS_SELECTOR, "#bt-model option"), 15)
    driver.find_element(By.ID, "bt-run").click()
    try:
        table = wait_until("backtest table", lambda: driver.find_element(By.ID, "bt-table").text, 60)
    except AssertionError:
        raise AssertionError("no backtest table; status: " + driver.find_element(By.ID, "bt-status").text)
    check("PR-AUC" in table and "candidate" in table, "backtest table: " + table)
    driver.save_screenshot(os.path.join(shots, "backtest.png"))

    # The only console error allowed is the refused config change's 422.
    errors = console_errors(driver, allowed=("status of 422",))
    check(not errors, "console errors: %s" % errors)
    print("console: overview charts, queue labelled %s, config error, models, backtest; screenshots in %s"
          % (transaction_id, shots))


if __name__ == "__main__":
    main()
