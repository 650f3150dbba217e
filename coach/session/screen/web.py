"""The web page: starlette served by uvicorn in a thread beside the session.

Every request must carry the session's random token (`?token=`), the page and its event
stream as much as its buttons: on the local network anyone could reach the port, and even
on this machine another program or page could. A button names one of a fixed set of
actions; nothing else a request says is used. The page gets the whole screen as a
server-sent event on every change and counts the seconds down itself in between, so an
idle page costs the server nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import secrets
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable
from importlib import resources
from typing import TYPE_CHECKING

from coach.content.model import IntentName
from coach.errors import CoachError
from coach.session.screen.model import ScreenModel
from coach.settings.screen import WebSettings

if TYPE_CHECKING:
    import uvicorn
    from starlette.applications import Starlette

__all__ = ["ACTIONS", "WebError", "WebScreen", "is_loopback"]

_LOGGER = logging.getLogger(__name__)

ACTIONS = (IntentName.PAUSE, IntentName.RESUME, IntentName.NEXT, IntentName.STOP)
"""What the page's buttons may ask for: the commands for when the room is too loud."""

_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the token is in the URL: never pass it on
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": ("default-src 'none'; script-src 'unsafe-inline'; "
                                "style-src 'unsafe-inline'; connect-src 'self'; "
                                "img-src 'self' data:"),
}
_REFUSED = "Forbidden: open the address the coach printed (it carries the session's token).\n"


class WebError(CoachError):
    """The page cannot be served; the message says what to do."""


def is_loopback(host: str) -> bool:
    """Whether `host` keeps the page on this machine."""
    return host in ("localhost", "::1") or host.startswith("127.")


class WebScreen:
    """Serves the page for one session; `start()` returns its address, `stop()` ends it."""

    def __init__(self, model: ScreenModel, press: Callable[[str], None],
                 knobs: WebSettings, history_png: Callable[[], bytes] | None = None) -> None:
        """`press(action)` is called, from the server's thread, for a button's action;
        `history_png()` draws the workout log's plot (None: no log in this session)."""
        self._history_png = history_png
        self._model = model
        self._press = press
        self._knobs = knobs
        self.token = secrets.token_urlsafe(18)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._clients: set[asyncio.Queue[str | None]] = set()
        self._last_level = 0.0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self.url = ""
        model.subscribe(self._changed)

    @property
    def pages(self) -> int:
        """How many pages are open on it now."""
        return len(self._clients)

    # --- lifetime ---------------------------------------------------------------------

    def start(self) -> str:
        """Listen, serve in a thread, and return the page's address (with its token)."""
        import uvicorn

        sock = self._bind()
        config = uvicorn.Config(self._app(), log_level="warning", access_log=False,
                                lifespan="off", timeout_graceful_shutdown=1,
                                server_header=False)
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(target=self._serve, args=(server, sock),
                                        name="coach-web", daemon=True)
        self._thread.start()
        if not self._started.wait(timeout=self._knobs.stop_wait_s * 3):
            raise WebError("the web page's server did not start; run without --web")
        host, port = sock.getsockname()[:2]
        if host in ("0.0.0.0", "::"):  # every address: name the one a phone can reach
            host = _lan_address() or socket.gethostname()
        self.url = f"http://{_url_host(host)}:{port}/?token={self.token}"
        return self.url

    def stop(self) -> None:
        """End every event stream and the server."""
        loop, server = self._loop, self._server
        if loop is None or server is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop already closed
            loop.call_soon_threadsafe(self._close_streams)
        server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=self._knobs.stop_wait_s)

    def _bind(self) -> socket.socket:
        host, port = self._knobs.host, self._knobs.port
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            if exc.errno == errno.EADDRINUSE:
                raise WebError(f"port {port} is in use (another coach?): pass --web-port N, "
                               "or --web-port 0 for any free port") from exc
            raise WebError(f"cannot listen on {host}:{port} ({exc.strerror}): "
                           "check --web-host") from exc
        sock.listen(64)
        sock.setblocking(False)
        return sock

    def _serve(self, server: uvicorn.Server, sock: socket.socket) -> None:
        async def serve() -> None:
            self._loop = asyncio.get_running_loop()
            self._started.set()
            await server.serve(sockets=[sock])

        try:
            asyncio.run(serve())
        except Exception:  # the session goes on without its page
            _LOGGER.exception("the web page's server stopped")
        finally:
            self._started.set()

    # --- the app ------------------------------------------------------------------------

    def _app(self) -> Starlette:
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import (
            HTMLResponse,
            PlainTextResponse,
            Response,
            StreamingResponse,
        )
        from starlette.routing import Route

        page = resources.files("coach.session.screen").joinpath("page.html").read_text(
            encoding="utf-8")

        def allowed(request: Request) -> bool:
            given = request.query_params.get("token", "")
            return secrets.compare_digest(given.encode(), self.token.encode())

        def refused() -> Response:
            return PlainTextResponse(_REFUSED, status_code=403, headers=_HEADERS)

        async def index(request: Request) -> Response:
            if not allowed(request):
                return refused()
            return HTMLResponse(page, headers=_HEADERS)

        async def events(request: Request) -> Response:
            if not allowed(request):
                return refused()
            return StreamingResponse(self._stream(), media_type="text/event-stream",
                                     headers={**_HEADERS, "X-Accel-Buffering": "no"})

        async def action(request: Request) -> Response:
            if not allowed(request):
                return refused()
            name = request.path_params["name"]
            if name not in ACTIONS:
                return PlainTextResponse(f"Unknown action: the page can ask for "
                                         f"{', '.join(ACTIONS)}.\n", status_code=404,
                                         headers=_HEADERS)
            self._press(name)
            return Response(status_code=204, headers=_HEADERS)

        async def history(request: Request) -> Response:
            if not allowed(request):
                return refused()
            if self._history_png is None:
                return PlainTextResponse("No workout log in this session.\n", status_code=404,
                                         headers=_HEADERS)
            from starlette.concurrency import run_in_threadpool

            png = await run_in_threadpool(self._history_png)
            return Response(png, media_type="image/png", headers=_HEADERS)

        return Starlette(routes=[
            Route("/", index),
            Route("/events", events),
            Route("/action/{name}", action, methods=["POST"]),
            Route("/history.png", history),
        ])

    async def _stream(self) -> AsyncIterator[str]:
        queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=self._knobs.client_queue)
        self._clients.add(queue)
        try:
            yield self._message()
            while True:
                try:
                    message = await asyncio.wait_for(queue.get(), self._knobs.keepalive_s)
                except asyncio.TimeoutError:
                    yield ": still here\n\n"
                    continue
                if message is None:
                    return
                yield message
        finally:
            self._clients.discard(queue)

    # --- updates --------------------------------------------------------------------------

    def _message(self, changed_at: float | None = None) -> str:
        """The screen as one event. `changed_at`: when the change came (wall clock, seconds),
        so the page can measure how long after it the change was shown."""
        data = self._model.snapshot().to_dict()
        data["sent"] = changed_at if changed_at is not None else time.time()
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    def _changed(self, level_only: bool) -> None:
        """From the session's threads: send the screen to every page, on the server's loop."""
        loop = self._loop
        if loop is None or not self._clients:
            return
        if level_only:
            now = time.monotonic()
            if now - self._last_level < self._knobs.level_every_s:
                return
            self._last_level = now
        with contextlib.suppress(RuntimeError):  # the loop closed as the session ended
            loop.call_soon_threadsafe(self._broadcast, time.time())

    def _broadcast(self, changed_at: float) -> None:
        message = self._message(changed_at)
        for queue in list(self._clients):
            if queue.full():  # a page that cannot keep up: only the newest screen matters
                queue.get_nowait()
            queue.put_nowait(message)

    def _close_streams(self) -> None:
        for queue in list(self._clients):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(None)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _lan_address() -> str | None:
    """This machine's address on the local network (the route a packet out would take);
    None when there is none. Nothing is sent."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.255.255.255", 1))
        address: str = probe.getsockname()[0]
        return address
    except OSError:
        return None
    finally:
        probe.close()
