"""What the browser tests share: an embedded node on a free port, a headless
chromium (Debian's, driven by Selenium; never downloaded), bounded waits."""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url, token=None):
    request = urllib.request.Request(url, headers={"Authorization": "Bearer " + token} if token else {})
    with urllib.request.urlopen(request, timeout=10) as r:
        return json.load(r)


def wait_until(what, predicate, timeout):
    """The first truthy value of predicate(); its exceptions mean "not yet"
    (a page redrawn, a node not up)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception:  # noqa: BLE001 - retried until the deadline
            pass
        time.sleep(0.3)
    raise AssertionError("timed out waiting for " + what)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


class embedded_node:
    """`vigil run` in a scratch folder (the simulator at `rate` tx/s, its own
    registry) with `config` as its config file; stopped and removed on exit."""

    def __init__(self, vigil, rate, config=None):
        self.work = tempfile.mkdtemp(prefix="vigil-browser-")
        self.base = "http://127.0.0.1:%d" % free_port()
        args = [vigil, "run", "--http-port", self.base.rsplit(":", 1)[1], "--rate", str(rate),
                "--registry", os.path.join(self.work, "registry")]
        if config is not None:
            with open(os.path.join(self.work, "vigil.json"), "w") as f:
                json.dump(config, f)
            args += ["--config", "vigil.json"]
        self.process = subprocess.Popen(args, cwd=self.work, stdout=open(os.path.join(self.work, "vigil.log"), "w"),
                                        stderr=subprocess.STDOUT)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.work, ignore_errors=True)


def headless_chromium():
    options = Options()
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=1400,1000"):
        options.add_argument(flag)
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"),
                            options=options)
