"""The web page in a real browser (Debian's chromium through selenium), served by real coach
sessions: typed, and from a WAV file in real time."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import wave
from collections.abc import Callable
from pathlib import Path

import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from coach.hearing.wavsource import TARGET_RATE
from tests.speech_fixtures import concat, silence, speak
from tests.support.browser import chromium, coach_session

pytestmark = pytest.mark.timeout(240)


def text_of(driver: WebDriver, element_id: str) -> str:
    """An element's text as shown, in lower case (titles are shown upper case)."""
    return str(driver.find_element(By.ID, element_id).text).lower()


def until(driver: WebDriver, check: Callable[[WebDriver], object], timeout: float = 15.0) -> None:
    try:
        WebDriverWait(driver, timeout, poll_frequency=0.1).until(check)
    except TimeoutException:
        shown = driver.find_element(By.TAG_NAME, "main").text
        raise AssertionError(f"the page never showed it; it shows:\n{shown}") from None


def status(url: str, method: str = "GET") -> int:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def without_token(url: str, path: str, token: str | None = None) -> str:
    parts = urllib.parse.urlsplit(url)
    query = f"token={token}" if token is not None else ""
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, query, ""))


def test_a_typed_session_on_the_page_and_its_buttons() -> None:
    with coach_session("--text", "--silent") as session, chromium(412, 915) as driver:
        driver.get(session.url)
        until(driver, lambda d: text_of(d, "title") == "ready")
        assert "start the warm-up" in text_of(driver, "count")
        session.type("start the warm-up")
        until(driver, lambda d: text_of(d, "title") == "get ready")
        assert "warm-up" in text_of(driver, "routine")
        session.type("skip")
        until(driver, lambda d: "marching in place" in text_of(d, "title"))
        assert "exercise 1 of 5" in text_of(driver, "step")
        assert "skip" in text_of(driver, "heard") and "next" in text_of(driver, "heard")
        assert text_of(driver, "next").startswith("next")
        first = int(text_of(driver, "count").replace(":", ""))
        time.sleep(2.3)
        assert int(text_of(driver, "count").replace(":", "")) < first  # it counts down

        driver.find_element(By.CSS_SELECTOR, 'button[data-action="pause"]').click()
        until(driver, lambda d: "on" in (d.find_element(By.ID, "badge").get_attribute("class")
                                         or ""))
        paused = json.loads(session.wait_for('"[pause button]"'))
        assert paused["intent"] == "pause"
        session.wait_for('"state": "paused"')
        frozen = text_of(driver, "count")
        time.sleep(1.5)
        assert text_of(driver, "count") == frozen  # paused: the clock stands still

        driver.find_element(By.CSS_SELECTOR, 'button[data-action="resume"]').click()
        session.wait_for('"[resume button]"')
        stop = driver.find_element(By.CSS_SELECTOR, 'button[data-action="stop"]')
        stop.click()  # one tap only arms it: a stray tap must not end the workout
        time.sleep(0.8)
        assert not any('"[stop button]"' in line for line in session.events)
        assert session.process.poll() is None
        stop.click()
        session.wait_for('"[stop button]"')
        until(driver, lambda d: text_of(d, "title") == "ready")
        latencies = driver.execute_script("return window.coachLatencies")
        assert len(latencies) >= 5  # every change reached the page as its own update


def test_every_request_without_the_token_is_refused() -> None:
    with coach_session("--text", "--silent") as session:
        token = urllib.parse.parse_qs(urllib.parse.urlsplit(session.url).query)["token"][0]
        assert status(session.url) == 200
        for path, method in (("/", "GET"), ("/events", "GET"), ("/action/pause", "POST")):
            assert status(without_token(session.url, path), method) == 403
            assert status(without_token(session.url, path, "wrong"), method) == 403
            assert status(without_token(session.url, path, token[:-1]), method) == 403
        # the buttons name a fixed set of actions; nothing else is carried out
        assert status(without_token(session.url, "/action/start_routine", token), "POST") == 404
        assert status(without_token(session.url, "/action/pause", token), "GET") == 405
        assert status(without_token(session.url, "/action/pause", token), "POST") == 204
        session.wait_for('"[pause button]"')
        # the workout log's plot, for the page
        assert status(without_token(session.url, "/history.png")) == 403
        with urllib.request.urlopen(without_token(session.url, "/history.png", token),
                                    timeout=30) as response:
            assert response.headers["Content-Type"] == "image/png"
            assert response.read().startswith(b"\x89PNG")


def test_on_the_network_the_address_carries_the_token_and_a_qr_code_is_printed() -> None:
    with coach_session("--text", "--silent", host="0.0.0.0") as session:
        host = urllib.parse.urlsplit(session.url).hostname
        assert host not in (None, "0.0.0.0", "127.0.0.1")
        assert "token=" in session.url
        local = session.url.replace(str(host), "127.0.0.1", 1)
        assert status(local) == 200
        assert status(without_token(local, "/")) == 403


def test_a_wav_session_plays_in_real_time_on_the_page(tmp_path: Path) -> None:
    wav = tmp_path / "start.wav"
    audio = concat(silence(0.6), speak("start the warm-up"), silence(8.0))
    with wave.open(str(wav), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(TARGET_RATE)
        out.writeframes(audio.tobytes())
    with coach_session("--input", str(wav), before=("--engine", "whisper")) as session, \
            chromium(1280, 800) as driver:
        driver.get(session.url)
        until(driver, lambda d: text_of(d, "title") == "get ready", timeout=30)
        until(driver, lambda d: "start the warm-up" in text_of(d, "heard"))
        first = int(text_of(driver, "count"))
        time.sleep(2.2)
        assert int(text_of(driver, "count")) < first  # paced by the audio, in real time
        session.wait_for('"state": "intro"')
        assert "whisper" in text_of(driver, "engine")


def test_a_port_in_use_or_out_of_range_is_one_line_and_exit_2() -> None:
    import socket
    import subprocess

    from tests.support.browser import COACH

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for flag, message in ((str(port), f"port {port} is in use"),
                              ("70000", "--web-port must be between 0 and 65535")):
            done = subprocess.run([str(COACH), "run", "--text", "--silent", "--web",
                                   "--web-port", flag], stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=120)
            assert done.returncode == 2
            assert message in done.stderr and "Traceback" not in done.stderr
            assert len(done.stderr.strip().splitlines()) == 1
