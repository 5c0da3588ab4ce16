"""The HTTP server: routes, the start-up sequence and graceful shutdown.

Start-up: the server listens at once (``/live`` answers 200, ``/ready`` 503); a background thread
imports the user's module and constructs the entry class; ``/ready`` turns 200 when that is done.
When it fails, ``/live`` answers 500 with the error (and ``/ready`` 500), and the error is logged.

Every request is answered on its own thread (``ThreadingHTTPServer``), so calls run concurrently.
"""
from __future__ import annotations

import contextvars
import inspect
import json
import os
import re
import selectors
import signal
import socket
import sys
import threading
import time
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import urlsplit

from pitlane_wrapper import __version__
from pitlane_wrapper import entrypoint as ep
from pitlane_wrapper.metrics import Metrics
from pitlane_wrapper.openapi import build_document, render_html

DEFAULT_PORT = 7000
MAX_BODY_BYTES = int(os.environ.get("PITLANE_MAX_BODY_BYTES") or 256 * 1024 * 1024)
SHUTDOWN_GRACE_SECONDS = float(os.environ.get("PITLANE_SHUTDOWN_GRACE_SECONDS") or 8)
PREFIX = re.compile(r"^/pub/(?:job|fatman)/([^/]+)/([^/]+)(/.*)?$")


class Request:
    """What ``self.request_context.get()`` returns inside a call: method, path, query and headers
    (``headers.get(name)`` is case-insensitive, as in Racetrack's FastAPI request)."""

    __slots__ = ("method", "path", "query", "headers", "client")

    def __init__(self, method: str, path: str, query: str, headers: Any, client: str) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.client = client


REQUEST_CONTEXT: "contextvars.ContextVar[Request]" = contextvars.ContextVar("request_context")


# ----------------------------------------------------------------------------------------- logging

_log_lock = threading.Lock()
_STRUCTURED = (os.environ.get("LOG_STRUCTURED") or "").lower() in ("1", "true", "yes")


def log(level: str, message: str, **fields: Any) -> None:
    """One line on stdout: ``2024-05-01T12:00:00.123Z INFO message k=v`` (JSON with LOG_STRUCTURED=true)."""
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"
    if _STRUCTURED:
        line = json.dumps({"time": stamp, "level": level, "msg": message, **fields}, default=str)
    else:
        extra = " ".join(f"{k}={v}" for k, v in fields.items() if v not in (None, ""))
        line = f"{stamp} {level:<5} {message}" + (f" {extra}" if extra else "")
    with _log_lock:
        try:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
        except (OSError, ValueError):
            pass


# ------------------------------------------------------------------------------------------- state


class JobState:
    """The entry class's life: initialising, then ready or failed. Read by every request thread."""

    def __init__(self, entrypoint_path: str, class_name: Optional[str]) -> None:
        self.entrypoint_path = entrypoint_path
        self.class_name = class_name
        self.job_name = os.environ.get("JOB_NAME", "")
        self.job_version = os.environ.get("JOB_VERSION", "")
        raw_ts = os.environ.get("JOB_DEPLOYMENT_TIMESTAMP", "")
        try:
            self.deployment_timestamp: Any = int(raw_ts)
        except ValueError:
            self.deployment_timestamp = int(float(raw_ts)) if re.match(r"^\d+(\.\d+)?$", raw_ts) else 0
        self.metrics = Metrics()
        self.ready = False
        self.error: Optional[str] = None
        self.instance: Any = None
        self.resolved_class = class_name or ""
        self.auxiliary: Dict[str, Callable[..., Any]] = {}
        self.static: Dict[str, Tuple[str, str]] = {}
        self.examples: Dict[str, Any] = {}
        self.parameters: List[Dict[str, Any]] = []
        self.openapi: Dict[str, Any] = {}

    def initialise(self) -> None:
        """Imports the module and constructs the class (runs on a background thread)."""
        t0 = time.monotonic()
        try:
            module = ep.load_module(self.entrypoint_path)
            cls = ep.find_class(module, self.entrypoint_path, self.class_name)
            self.resolved_class = cls.__name__
            log("INFO", f"constructing {cls.__name__} from {self.entrypoint_path}")
            instance = ep.construct(cls)
            if not hasattr(instance, "request_context"):
                try:
                    setattr(instance, "request_context", REQUEST_CONTEXT)
                except (AttributeError, TypeError):
                    pass
            auxiliary = ep.auxiliary_endpoints(instance)
            static = ep.static_endpoints(instance)
            examples = ep.input_examples(instance, list(auxiliary))
            params = ep.parameters(instance.perform)
            self.openapi = build_document(
                job_name=self.job_name,
                job_version=self.job_version,
                base_path=f"/pub/job/{self.job_name}/{self.job_version}" if self.job_name and self.job_version else "",
                class_name=cls.__name__,
                class_doc=ep.docstring(cls),
                perform_doc=ep.docstring(instance.perform),
                perform_params=params,
                auxiliary={p: {"doc": ep.docstring(f), "params": ep.parameters(f)} for p, f in auxiliary.items()},
                static={p: m for p, (_, m) in static.items()},
                examples=examples,
            )
            self.instance, self.auxiliary, self.static, self.examples, self.parameters = instance, auxiliary, static, examples, params
            for path in sorted(auxiliary):
                log("INFO", f"auxiliary endpoint POST /api/v1{path}")
            for path, (filename, mimetype) in sorted(static.items()):
                log("INFO", f"static endpoint GET /api/v1{path} -> {filename} ({mimetype})")
            self.metrics.init_seconds = time.monotonic() - t0
            self.ready = True
            self.metrics.ready = True
            log("INFO", f"job ready: {cls.__name__} constructed in {time.monotonic() - t0:.3f}s")
        except ep.EntrypointError as e:
            self._fail(str(e), e.__cause__, t0)
        except BaseException as e:  # anything else is a bug worth a traceback, never a hang
            self._fail(f"{type(e).__name__}: {e}", e, t0)

    def _fail(self, message: str, cause: Optional[BaseException], t0: float) -> None:
        self.error = message
        self.metrics.init_seconds = time.monotonic() - t0
        log("ERROR", f"initialisation failed: {message}")
        if cause is not None and not isinstance(cause, SyntaxError):
            for line in "".join(traceback.format_exception(type(cause), cause, cause.__traceback__)).rstrip().splitlines():
                log("ERROR", f"  {line}")


# --------------------------------------------------------------------------------------- the server


class HttpError(Exception):
    def __init__(self, status: int, error: str, kind: str) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.kind = kind


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = f"pitlane-python3-wrapper/{__version__}"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 120  # idle keep-alive connections are closed after this many seconds
    state: JobState  # set on the subclass made by serve()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - we log our own lines
        pass

    # One method for every verb: route, answer, count, log.
    def _handle(self) -> None:
        t0 = time.perf_counter()
        self.state.metrics.request_started()
        status = 500
        self._endpoint = "unmatched"
        raw_path = self.path
        try:
            parts = urlsplit(raw_path)
            status = self._route(parts.path or "/")
        except HttpError as e:
            status = e.status
            self._send_json(e.status, {"error": e.error, "type": e.kind})
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            status = 499
        except Exception as e:  # a wrapper bug: answer 500 rather than drop the connection
            status = 500
            log("ERROR", f"wrapper error on {self.command} {raw_path}: {type(e).__name__}: {e}")
            try:
                self._send_json(500, {"error": f"wrapper error: {e}", "type": type(e).__name__})
            except OSError:
                self.close_connection = True
        finally:
            seconds = time.perf_counter() - t0
            self.state.metrics.request_done(self._endpoint, self.command, status, seconds)
            headers = self.headers
            rid = (headers.get(os.environ.get("REQUEST_TRACING_HEADER") or "X-Request-Id") or headers.get("X-Request-Id") or "") if headers else ""
            caller = (headers.get(os.environ.get("CALLER_NAME_HEADER") or "X-Caller-Name") or "") if headers else ""
            log("INFO", f"{self.command} {raw_path} {status} {seconds * 1000:.1f}ms", request_id=rid, caller=caller)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle  # noqa: N815

    # ---------------------------------------------------------------- routing
    def _route(self, path: str) -> int:
        """Answers the request; returns the status. Sets ``self._endpoint`` (the metrics label)."""
        st = self.state
        prefix = ""
        m = PREFIX.match(path)
        if m:
            name = m.group(1)
            if st.job_name and name != st.job_name:
                self._drain()
                raise HttpError(404, f"this is job {st.job_name}, not {name}", "NotFound")
            prefix = path[: len(path) - len(m.group(3) or "")]
            path = m.group(3) or "/"
        method = self.command
        if path == "/docs/":
            self._drain()
            self._endpoint = "/docs"
            return self._redirect(f"{prefix}/docs")
        if len(path) > 1:
            path = path.rstrip("/") or "/"

        if path == "/":
            self._drain()
            self._endpoint = "/"
            return self._redirect(f"{prefix}/docs")
        if path in ("/live", "/ready", "/health", "/metrics", "/docs", "/docs/openapi.json", "/openapi.json", "/api/v1/parameters"):
            self._drain()
            self._endpoint = path
            if method not in ("GET", "HEAD"):
                raise HttpError(405, f"{method} is not allowed on {path}; use GET", "MethodNotAllowed")
            return self._get(path)
        if path == "/api/v1/perform":
            self._endpoint = path
            return self._call(path, "/perform")
        if path.startswith("/api/v1/"):
            sub = path[len("/api/v1"):]
            if sub in st.auxiliary:
                self._endpoint = path
                return self._call(path, sub)
            if sub in st.static:
                self._drain()
                self._endpoint = path
                if method not in ("GET", "HEAD"):
                    raise HttpError(405, f"{method} is not allowed on {path}; use GET", "MethodNotAllowed")
                filename, mimetype = st.static[sub]
                try:
                    with open(filename, "rb") as f:
                        data = f.read()
                except OSError as e:
                    raise HttpError(500, f"cannot read {filename}: {e}", type(e).__name__) from e
                return self._send(200, data, mimetype)
        self._drain()
        if not st.ready and path.startswith("/api/v1/"):
            raise HttpError(503, self._not_ready_message(), "NotReady")
        raise HttpError(404, f"no endpoint {method} {path}", "NotFound")

    def _not_ready_message(self) -> str:
        st = self.state
        return f"the job failed to start: {st.error}" if st.error else "the job is still initialising"

    # ---------------------------------------------------------------- GET endpoints
    def _get(self, path: str) -> int:
        st = self.state
        if path == "/live":
            if st.error:
                return self._send_json(500, {"live": False, "deployment_timestamp": st.deployment_timestamp, "error": st.error})
            return self._send_json(200, {"live": True, "deployment_timestamp": st.deployment_timestamp})
        if path == "/ready":
            if st.ready:
                return self._send_json(200, {"ready": True})
            if st.error:
                return self._send_json(500, {"ready": False, "error": st.error})
            return self._send_json(503, {"ready": False})
        if path == "/health":
            ok = st.ready and not st.error
            return self._send_json(
                200 if ok else 500,
                {
                    "service": "job",
                    "job_name": st.job_name,
                    "job_version": st.job_version,
                    "live": st.error is None,
                    "ready": st.ready,
                    "status": "pass" if ok else "fail",
                    "error": st.error,
                    "deployment_timestamp": st.deployment_timestamp,
                    "job_type": "python3",
                    "wrapper_version": __version__,
                    "entrypoint_class": st.resolved_class,
                },
            )
        if path == "/metrics":
            user: List[Dict[str, Any]] = []
            if st.ready:
                try:
                    user = ep.user_metrics(st.instance)
                except Exception as e:
                    log("WARN", f"metrics() failed: {type(e).__name__}: {e}")
            return self._send(200, st.metrics.render(user).encode("utf-8"), "text/plain; version=0.0.4; charset=utf-8")
        if not st.ready:
            raise HttpError(503, self._not_ready_message(), "NotReady")
        if path == "/api/v1/parameters":
            return self._send_json(200, st.parameters)
        if path in ("/docs/openapi.json", "/openapi.json"):
            return self._send_json(200, st.openapi)
        # /docs: HTML for browsers, the JSON document for clients that ask for JSON.
        accept = self.headers.get("Accept", "")
        if "application/json" in accept and "text/html" not in accept:
            return self._send_json(200, st.openapi)
        return self._send(200, render_html(st.openapi).encode("utf-8"), "text/html; charset=utf-8")

    # ---------------------------------------------------------------- calls
    def _call(self, path: str, endpoint: str) -> int:
        st = self.state
        body = self._read_body()
        if self.command != "POST":
            raise HttpError(405, f"{self.command} is not allowed on {path}; use POST", "MethodNotAllowed")
        if not st.ready:
            raise HttpError(503, self._not_ready_message(), "NotReady")
        try:
            payload = json.loads(body.decode("utf-8")) if body.strip() else {}
        except (UnicodeDecodeError, ValueError) as e:
            raise HttpError(400, f"the request body is not valid JSON: {e}", type(e).__name__) from e
        if not isinstance(payload, dict):
            raise HttpError(400, f"the request body must be a JSON object of keyword arguments, not {_json_kind(payload)}", "TypeError")
        func = st.instance.perform if endpoint == "/perform" else st.auxiliary[endpoint]
        st.metrics.call_started(endpoint)
        t0 = time.perf_counter()
        internal_error = False
        token = REQUEST_CONTEXT.set(Request(self.command, path, "", self.headers, self.client_address[0] if self.client_address else ""))
        try:
            result = func(**payload)
            if inspect.iscoroutine(result):
                # Imported here: asyncio costs ~0.1 s of start-up, and only `async def perform` needs it.
                import asyncio

                result = asyncio.run(result)
        except (ValueError, TypeError) as e:
            log("WARN", f"{endpoint} rejected the input: {type(e).__name__}: {e}")
            raise HttpError(400, str(e), type(e).__name__) from e
        except Exception as e:
            internal_error = True
            log("ERROR", f"{endpoint} raised {type(e).__name__}: {e}")
            for line in traceback.format_exc().rstrip().splitlines():
                log("ERROR", f"  {line}")
            raise HttpError(500, str(e) or type(e).__name__, type(e).__name__) from e
        finally:
            REQUEST_CONTEXT.reset(token)
            st.metrics.call_done(endpoint, time.perf_counter() - t0, internal_error)
        try:
            data = ep.dumps(result)
        except (TypeError, ValueError) as e:
            st.metrics.internal_error(endpoint)
            log("ERROR", f"{endpoint} returned a result JSON cannot encode: {type(e).__name__}: {e}")
            raise HttpError(500, f"the result of {endpoint[1:]} cannot be encoded as JSON: {e}", type(e).__name__) from e
        return self._send(200, data, "application/json")

    # ---------------------------------------------------------------- I/O helpers
    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: List[bytes] = []
            total = 0
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY_BYTES:
                    self.close_connection = True
                    raise HttpError(413, f"the request body is larger than {MAX_BODY_BYTES} bytes", "PayloadTooLarge")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            raise HttpError(413, f"the request body is larger than {MAX_BODY_BYTES} bytes", "PayloadTooLarge")
        return self.rfile.read(length) if length > 0 else b""

    def _drain(self) -> None:
        """Reads and drops a body nobody wants, so the keep-alive connection stays in sync."""
        try:
            self._read_body()
        except HttpError:
            pass

    def _send(self, status: int, data: bytes, content_type: str, extra: Optional[Dict[str, str]] = None) -> int:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        return status

    def _send_json(self, status: int, value: Any) -> int:
        return self._send(status, ep.dumps(value), "application/json")

    def _redirect(self, location: str) -> int:
        return self._send(302, b"", "text/plain", {"Location": location})


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: Tuple[str, int], handler: type) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        # stop() wakes the accept loop at once through this pipe (socketserver's own shutdown()
        # waits for the next poll, and a redeploy waits for the old replica to exit). Made first:
        # a failed bind calls server_close() from the base constructor.
        self._wake_r, self._wake_w = os.pipe()
        self._stopping = False
        super().__init__(address, handler)

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """socketserver's accept loop, plus the wake-up pipe of :meth:`stop`."""
        with selectors.DefaultSelector() as selector:
            selector.register(self, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while not self._stopping:
                events = selector.select(poll_interval)
                if self._stopping:
                    break
                if any(key.fileobj is self for key, _ in events):
                    self._handle_request_noblock()
                self.service_actions()

    def stop(self) -> None:
        """Ends :meth:`serve_forever` promptly; safe in a signal handler."""
        self._stopping = True
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass

    def server_close(self) -> None:
        super().server_close()
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass


def serve(entrypoint_path: str, class_name: Optional[str], host: str = "0.0.0.0", port: int = DEFAULT_PORT) -> int:
    """Listens, initialises the job in the background, serves until SIGTERM/SIGINT."""
    state = JobState(entrypoint_path, class_name)
    handler = type("JobHandler", (Handler,), {"state": state})
    try:
        server = Server((host, port), handler)
    except OSError as e:
        log("ERROR", f"cannot listen on {host}:{port}: {e}")
        return 1
    log("INFO", f"pitlane python3 wrapper {__version__} (Python {sys.version.split()[0]}) listening on {host}:{port}", job=state.job_name, version=state.job_version)
    threading.Thread(target=state.initialise, name="initialise", daemon=True).start()

    stopping = threading.Event()

    def stop(signum: int, _frame: Any) -> None:
        if stopping.is_set():
            return
        stopping.set()
        log("INFO", f"received {signal.Signals(signum).name}; finishing in-flight requests (up to {SHUTDOWN_GRACE_SECONDS:g}s)")
        server.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever(poll_interval=0.25)
    finally:
        server.server_close()
        deadline = time.monotonic() + SHUTDOWN_GRACE_SECONDS
        while time.monotonic() < deadline and state.metrics._in_flight > 0:
            time.sleep(0.05)
        log("INFO", "stopped")
    return 0


USAGE = "usage: python -m pitlane_wrapper ENTRYPOINT_PATH [ENTRYPOINT_CLASS]  (env PORT, default 7000; PITLANE_WRAPPER_HOST, default 0.0.0.0)"


def main(argv: List[str]) -> int:
    args = list(argv)
    if args and args[0] == "run":  # Racetrack's spelling: racetrack_job_wrapper run PATH [CLASS]
        args = args[1:]
    if not args or args[0] in ("-h", "--help") or len(args) > 2:
        print(USAGE, file=sys.stderr)
        return 0 if args and args[0] in ("-h", "--help") else 2
    entrypoint_path = args[0]
    class_name = args[1] if len(args) > 1 and args[1] else None
    try:
        port = int(os.environ.get("PORT") or DEFAULT_PORT)
    except ValueError:
        print(f"PORT must be a number, not {os.environ.get('PORT')!r}", file=sys.stderr)
        return 2
    host = os.environ.get("PITLANE_WRAPPER_HOST") or "0.0.0.0"
    return serve(entrypoint_path, class_name, host, port)
