"""The consumer page and the scan page in real headless Chromium (Debian's, through Selenium).

One served ledger (the real API in a uvicorn thread, embedded chain, SQLite)
records the farm-to-table and drug scenario of tests/trace/scenario.py and
anchors it; one Chromium, with Chinese as its browser language and a fake
camera that films the sauce lot's QR label, then:

- loads the sauce lot's Digital Link, checks the timeline against the trace
  JSON (count, order, place names) and the verified badge, saves
  ``test-output/consumer-page-zh.png``, follows the language link and does
  the same in English (``consumer-page-en.png``);
- uploads the QR label PNG through the scan page's file input, and scans a
  frame of the fake camera: both land on the lot's consumer page.
"""

from __future__ import annotations

import base64
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from ledger.bootstrap import init_data_dir
from ledger.config import Settings
from ledger.demo import LocalServer
from ledger.epcis.build import gln
from ledger.participants.service import register_participant
from ledger.runtime import open_ledger
from scanner.labels import label_image, label_png
from tests.support import REPO_ROOT, unavailable
from tests.trace.scenario import PARTIES, SAUCE_LOT, Node, key_of, record_scenario
from tests.trace.test_trace_resolver import anchored_trace

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
OUT = REPO_ROOT / "test-output"
SAUCE_PATH = key_of(SAUCE_LOT)
WAIT = 30  # seconds: generous for a loaded CI machine; the waits return as soon as the page is there


@dataclass
class Served:
    url: str
    http: httpx.Client


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The real API on a local port, with the scenario recorded and anchored."""
    root = tmp_path_factory.mktemp("browser")
    password_file = root / "password"
    password_file.write_text("browser-test\n", encoding="utf-8")
    settings = Settings(data_dir=root / "node", key_password_file=password_file, rpc_url=None, database_url=None,
                        anchor_max_delay=0.2)
    init_data_dir(settings)
    keys = {party: Account.create() for party in PARTIES}
    with open_ledger(settings) as ledger:  # before serving: the embedded chain has one user at a time
        for party, (gln_body, name, roles) in PARTIES.items():
            register_participant(ledger, gln=gln(gln_body), name=name, roles=roles, keys=[keys[party].address])
    with pytest.MonkeyPatch.context() as env:
        # LocalServer configures the app through the environment; these restore it afterwards.
        for name in ("TRACELEDGER_DATABASE_URL", "TRACELEDGER_RPC_URL", "TRACELEDGER_KEY_PASSWORD"):
            env.delenv(name, raising=False)
        env.setenv("TRACELEDGER_DATA_DIR", str(settings.data_dir))
        env.setenv("TRACELEDGER_KEY_PASSWORD_FILE", str(password_file))
        env.setenv("TRACELEDGER_ANCHOR_MAX_DELAY", "0.2")
        with LocalServer(settings) as server, httpx.Client(base_url=server.url, timeout=60) as http:
            record_scenario(Node(http, None, keys))  # type: ignore[arg-type]  # only the HTTP side is used
            yield Served(server.url, http)


def _fake_camera_film(path: Path) -> Path:
    """A one-frame Y4M video of the sauce lot's QR label, for Chromium's fake camera (it loops the file)."""
    width, height = 640, 480
    label = label_image(SAUCE_LOT).convert("L")
    label.thumbnail((height - 40, height - 40))
    frame = Image.new("L", (width, height), 255)
    frame.paste(label, ((width - label.width) // 2, (height - label.height) // 2))
    chroma = bytes([128]) * (width // 2 * height // 2)
    path.write_bytes(f"YUV4MPEG2 W{width} H{height} F5:1 Ip A1:1 C420jpeg\n".encode() + b"FRAME\n"
                     + frame.tobytes() + chroma + chroma)
    return path


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    """Headless Chromium whose browser language is Chinese and whose camera films a QR label."""
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        unavailable(f"{CHROMIUM} or {CHROMEDRIVER} missing: apt-get install chromium chromium-driver")
    root = tmp_path_factory.mktemp("chromium")
    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=412,915", f"--user-data-dir={root / 'profile'}",
                     "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                     f"--use-file-for-fake-video-capture={_fake_camera_film(root / 'camera.y4m')}"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    # A headless window is at least 500 px wide: emulate the phone's 412 px viewport instead.
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 412, "height": 915, "deviceScaleFactor": 1, "mobile": True})
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver: WebDriver, condition) -> None:
    WebDriverWait(driver, WAIT).until(lambda d: condition(d))


def _page_lang(driver: WebDriver) -> str:
    return driver.find_element(By.TAG_NAME, "html").get_attribute("lang")


def _screenshot(driver: WebDriver, name: str) -> Path:
    """The whole page at the phone's width, below the fold included (Chromium's DevTools capture)."""
    OUT.mkdir(exist_ok=True)
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
    })
    target = OUT / name
    target.write_bytes(base64.b64decode(shot["data"]))
    return target


def _check_consumer_page(driver: WebDriver, trace: dict, *, lang: str, steps: list[str], badge: str) -> None:
    entries = driver.find_elements(By.CSS_SELECTOR, "#timeline > li.event")
    assert len(entries) == len(trace["events"]) == len(steps)
    names = trace["locationNames"]
    expected_places = [names[event["location"]] for event in trace["events"]]
    assert [e.find_element(By.CSS_SELECTOR, ".place").text for e in entries] == expected_places
    assert [e.find_element(By.CSS_SELECTOR, ".step").text.split(" ·")[0] for e in entries] == steps
    verified = driver.find_element(By.ID, "verified-badge")
    assert verified.is_displayed() and badge in verified.text
    assert _page_lang(driver) == lang
    assert driver.find_elements(By.CSS_SELECTOR, ".banner") == []  # nothing recalled or decommissioned


def test_the_consumer_page_in_chinese_then_english(served: Served, browser: WebDriver) -> None:
    trace = anchored_trace(types.SimpleNamespace(http=served.http), SAUCE_PATH)
    assert all(event["anchored"] for event in trace["events"]), "the scenario was not anchored in time"
    places = {trace["locationNames"][event["location"]] for event in trace["events"]}
    assert places == {"Green Valley Farm", "Riverside Foods", "FreshMart Central"}

    browser.get(served.url + SAUCE_PATH)  # Accept-Language: zh-CN,zh (the browser's language)
    _check_consumer_page(browser, trace, lang="zh-CN", badge="已验证",
                         steps=["收获", "发货", "收货", "由原料加工", "装箱", "发货", "收货", "拆箱"])
    assert "由链上登记的参与方签名" in browser.find_element(By.ID, "verification").text
    assert _screenshot(browser, "consumer-page-zh.png").stat().st_size > 10_000

    browser.find_element(By.ID, "language-switch").click()
    _wait(browser, lambda d: _page_lang(d) == "en")
    assert browser.current_url == served.url + SAUCE_PATH + "?lang=en"
    _check_consumer_page(browser, trace, lang="en", badge="Verified",
                         steps=["Harvested", "Shipped", "Received", "Processed from its ingredients", "Packed",
                                "Shipped", "Received", "Unpacked"])
    verification = browser.find_element(By.ID, "verification").text
    assert f"of size {trace['checkpoint']['treeSize']} (RFC 9162 inclusion proofs)" in verification
    assert f"in block {trace['checkpoint']['blockNumber']}" in verification
    assert _screenshot(browser, "consumer-page-en.png").stat().st_size > 10_000


def test_an_english_browser_gets_english(served: Served, browser: WebDriver) -> None:
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Accept-Language": "en-US,en;q=0.9"}})
    try:
        browser.get(served.url + SAUCE_PATH)
        assert _page_lang(browser) == "en" and browser.find_element(By.ID, "language-switch").text == "中文"
    finally:
        browser.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {}})


def test_uploading_a_photo_of_the_label_on_the_scan_page(served: Served, browser: WebDriver, tmp_path: Path) -> None:
    photo = tmp_path / "sauce-label.png"
    photo.write_bytes(label_png(SAUCE_LOT))
    browser.get(served.url + "/scan")
    assert _page_lang(browser) == "zh-CN"
    browser.find_element(By.ID, "image").send_keys(str(photo))
    browser.find_element(By.ID, "upload-submit").click()
    _wait(browser, lambda d: d.current_url == served.url + SAUCE_PATH)
    assert browser.find_elements(By.CSS_SELECTOR, "#timeline > li.event")
    assert browser.find_element(By.ID, "verified-badge").is_displayed()
    browser.back()
    _screenshot(browser, "scan-page-zh.png")


def test_scanning_a_camera_frame_on_the_scan_page(served: Served, browser: WebDriver) -> None:
    browser.get(served.url + "/scan?lang=en")
    camera = browser.find_element(By.ID, "camera")
    assert camera.is_displayed(), "the script did not offer the camera (navigator.mediaDevices missing?)"
    browser.find_element(By.ID, "camera-start").click()
    _wait(browser, lambda d: d.execute_script("return document.getElementById('camera-preview').videoWidth") > 0)
    browser.find_element(By.ID, "camera-capture").click()
    _wait(browser, lambda d: d.current_url.startswith(served.url + SAUCE_PATH))
    assert browser.current_url == served.url + SAUCE_PATH + "?lang=en"
    assert browser.find_element(By.ID, "verified-badge").text.endswith("Verified")

