#!/usr/bin/env python3
"""The dashboard in a real browser (Debian's chromium, headless, driven by
Selenium): a running embedded node's drift panel draws every feature's
training and live distributions from GET /models, ranked by PSI, and the
window selector redraws it.

Usage: dashboard_browser_test.py PATH_TO_VIGIL
"""
import os
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from browser_support import check, embedded_node, get_json, headless_chromium, wait_until


def main():
    with embedded_node(os.path.abspath(sys.argv[1]), 3000) as node:
        driver = headless_chromium()
        try:
            exercise(driver, node.base)
        finally:
            driver.quit()


def exercise(driver, base):
    # The first start trains the bootstrap model; then drift fills in.
    wait_until("/ready", lambda: get_json(base + "/ready")["ready"], 300)
    wait_until("drift counts", lambda: next(w for w in get_json(base + "/models")["drift"]["windows"]
                                            if w["window"] == "24h")["rows"] >= 200, 120)

    driver.get(base + "/")
    # The page redraws every 2 s: read the table in one script, as drawn.
    read_table = """return [...document.querySelectorAll('#drift-features tr.feature')].map(r => ({
        name: r.cells[0].textContent, psi: parseFloat(r.querySelector('td.psi').textContent),
        ref: [...r.querySelectorAll('svg rect.ref')].map(x => parseFloat(x.getAttribute('height'))),
        live: r.querySelectorAll('svg rect.live').length}))"""
    rows = WebDriverWait(driver, 30).until(lambda d: d.execute_script(read_table) or False)
    check(len(rows) >= 10, "drift table has %d rows" % len(rows))
    status = driver.find_element(By.ID, "drift-status").text
    check("tracking" in status and "decisions counted" in status, "status: " + status)

    # Ranked by PSI, and every row draws both distributions: two bars
    # per bin of that feature's reference (as GET /models has it).
    psis = [r["psi"] for r in rows]
    check(psis == sorted(psis, reverse=True), "not ranked by PSI: %s" % psis)
    drift = get_json(base + "/models")["drift"]
    day = next(w for w in drift["windows"] if w["window"] == "24h")
    bins = {f["name"]: len(f["shares"]) for f in day["features"]}
    for r in rows:
        name = r["name"]
        check(name in bins, "unknown feature " + name)
        check(len(r["ref"]) == bins[name] and r["live"] == bins[name],
              "%s: %d/%d bars for %d bins" % (name, len(r["ref"]), r["live"], bins[name]))
        check(max(r["ref"]) > 0, name + ": the training distribution is not drawn")

    # Another window redraws the panel from that window's counts.
    check("counted in the last 24h" in status, "status: " + status)
    Select(driver.find_element(By.ID, "drift-window")).select_by_value("1h")
    WebDriverWait(driver, 10).until(
        lambda d: "counted in the last 1h" in d.find_element(By.ID, "drift-status").text)
    hour = next(w for w in get_json(base + "/models")["drift"]["windows"] if w["window"] == "1h")
    check(hour["rows"] > 0, "no decisions in the last hour")
    check(len(driver.find_elements(By.CSS_SELECTOR, "#label-weeks th")) == 5, "label weeks table missing")
    print("dashboard drift panel: %d features drawn, ranked by PSI, window switch redraws" % len(rows))

if __name__ == "__main__":
    main()
