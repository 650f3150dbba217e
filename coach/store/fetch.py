"""HTTP download of a model archive into a partial file, resumed with a Range header.

Only the standard library talks to the network (urllib); the opener is passed in so tests can
use their own (and skip proxies).
"""

from __future__ import annotations

import http.client
import logging
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from coach import __version__
from coach.store.catalog import ModelEntry
from coach.store.errors import DownloadError, IncompleteDownloadError, OfflineError
from coach.store.progress import NullProgress, Progress

__all__ = ["FETCH_ATTEMPTS", "FETCH_TIMEOUT_SECONDS", "PARTIAL_DIR", "fetch", "partial_path"]

_LOGGER = logging.getLogger(__name__)

_CHUNK = 1 << 16
PARTIAL_DIR = ".partial"
"""Folder inside the models folder that holds downloads not yet checked."""
FETCH_TIMEOUT_SECONDS = 30.0
"""How long a connect or a read may wait for the server (seconds)."""
FETCH_ATTEMPTS = 3
"""Connections per `fetch` call: a dropped one is resumed until this many were tried."""
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


def partial_path(models_dir: Path, entry: ModelEntry) -> Path:
    """Where the archive of `entry` is downloaded to before it is checked."""
    return models_dir / PARTIAL_DIR / f"{entry.archive_name}.partial"


def _default_opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener()


def fetch(
    url: str,
    partial: Path,
    expected_size: int | None,
    *,
    opener: urllib.request.OpenerDirector | None = None,
    progress: Progress | None = None,
    timeout: float = FETCH_TIMEOUT_SECONDS,
    attempts: int = FETCH_ATTEMPTS,
) -> None:
    """Download `url` into `partial`, resuming whatever is already there.

    A dropped connection is resumed up to `attempts` times in this call; after that the
    partial file stays for the next call. Ctrl-C also leaves it (writes are appended in place).
    """
    partial.parent.mkdir(parents=True, exist_ok=True)
    http_opener = opener or _default_opener()
    shown = progress or NullProgress()
    for attempt in range(1, attempts + 1):
        try:
            _fetch_once(url, partial, expected_size, http_opener, shown, timeout)
            return
        except IncompleteDownloadError:
            if attempt == attempts:
                raise
            _LOGGER.warning("connection dropped; resuming (attempt %d of %d)", attempt + 1,
                            attempts)


def _fetch_once(
    url: str,
    partial: Path,
    expected_size: int | None,
    opener: urllib.request.OpenerDirector,
    progress: Progress,
    timeout: float,
) -> None:
    have = _usable_partial_size(partial, expected_size)
    if expected_size is not None and have == expected_size:
        _LOGGER.debug("%s already complete", partial)
        return
    response = _open(url, partial, have, opener, timeout)
    with response:
        offset = _resume_offset(response, have)
        if have and offset == 0:
            _LOGGER.info("server ignored the Range request; downloading from the start")
        length = _content_length(response)
        total = offset + length if length is not None else expected_size
        progress.start(total, offset)
        received = _copy_body(response, partial, offset, progress, url)
    if length is not None and received < length:
        done = offset + received
        raise IncompleteDownloadError(
            f"connection to {_host(url)} closed after {done:,} of {total:,} bytes; "
            "run the same command again to resume"
        )


def _usable_partial_size(partial: Path, expected_size: int | None) -> int:
    if not partial.is_file():
        return 0
    have = partial.stat().st_size
    if expected_size is not None and have > expected_size:
        _LOGGER.info("partial file larger than expected; starting over")
        partial.unlink()
        return 0
    return have


def _open(
    url: str, partial: Path, have: int, opener: urllib.request.OpenerDirector, timeout: float
) -> http.client.HTTPResponse:
    request = urllib.request.Request(url, headers={"User-Agent": f"coach/{__version__}"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response: http.client.HTTPResponse = opener.open(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and have:
            # Our partial file does not fit the server's file: start over.
            partial.unlink(missing_ok=True)
            raise IncompleteDownloadError(f"{_host(url)} refused to resume") from exc
        raise DownloadError(f"{_host(url)} answered HTTP {exc.code} ({exc.reason}) for {url}") \
            from exc
    except urllib.error.URLError as exc:
        raise OfflineError(_offline_message(url, exc.reason)) from exc
    except (TimeoutError, ConnectionError) as exc:
        raise OfflineError(_offline_message(url, exc)) from exc
    return response


def _offline_message(url: str, reason: object) -> str:
    archive = url.rstrip("/").rsplit("/", 1)[-1]
    return (
        f"could not reach {_host(url)} ({reason}): no network? Download {archive} elsewhere "
        f"({url}) and run `coach models install {archive}`"
    )


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).hostname or url


def _resume_offset(response: http.client.HTTPResponse, have: int) -> int:
    """Where the body starts: `have` when the server honoured our Range, else 0."""
    if not have or response.status != 206:
        return 0
    match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
    if match is None or int(match.group(1)) != have:
        return 0
    return have


def _content_length(response: http.client.HTTPResponse) -> int | None:
    value = response.headers.get("Content-Length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _copy_body(
    response: http.client.HTTPResponse,
    partial: Path,
    offset: int,
    progress: Progress,
    url: str,
) -> int:
    received = 0
    with partial.open("r+b" if offset else "wb") as out:
        out.seek(offset)
        out.truncate()
        try:
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                out.write(chunk)
                received += len(chunk)
                progress.advance(len(chunk))
        except (TimeoutError, ConnectionError, http.client.IncompleteRead) as exc:
            _LOGGER.debug("read from %s failed: %s", url, exc)
    return received
