#!/usr/bin/env python3
"""The dashboard in a real browser (Debian's chromium, headless, driven by
Selenium): a running embedded node's drift panel draws every feature's
training and live distributions from GET /models, ranked by PSI, and the
window selector redraws it.

Usage: dashboard_browser_test.py PATH_TO_VIGIL
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)


def wait_until(what, predicate, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception:  # not up yet
            pass
        time.sleep(0.5)
    raise AssertionError("timed out waiting for " + what)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def main():
    vigil = os.path.abspath(sys.argv[1])
    work = tempfile.mkdtemp(prefix="vigil-browser-")
    port = free_port()
    base = "http://127.0.0.1:%d" % port
    node = subprocess.Popen(
        [vigil, "run", "--http-port", str(port), "--rate", "3000", "--registry", os.path.join(work, "registry")],
        cwd=work, stdout=open(os.path.join(work, "vigil.log"), "w"), stderr=subprocess.STDOUT)
    driver = None
    try:
        # The first start trains the bootstrap model; then drift fills in.
        wait_until("/ready", lambda: get_json(base + "/ready")["ready"], 300)
        wait_until("drift counts", lambda: next(w for w in get_json(base + "/models")["drift"]["windows"]
                                                if w["window"] == "24h")["rows"] >= 200, 120)

        options = Options()
        for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
            options.add_argument(flag)
        options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"),
                                  options=options)
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
    finally:
        if driver:
            driver.quit()
        node.terminate()
        try:
            node.wait(timeout=60)
        except subprocess.TimeoutExpired:
            node.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
