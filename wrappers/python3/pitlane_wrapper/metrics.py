"""Prometheus metrics in the text exposition format (version 0.0.4), without prometheus_client.

Two families of series:

* Pitlane's, for every HTTP request by route: ``pitlane_job_requests_total{endpoint,method,status}``
  and the histogram ``pitlane_job_request_duration_seconds{endpoint}``, plus
  ``pitlane_job_requests_in_flight``, ``pitlane_job_ready`` and ``pitlane_job_init_duration_seconds``.
* Racetrack's job wrapper series for calls of perform and the auxiliary endpoints (so its
  dashboards keep working): ``requests_started_total``, ``requests_done_total``,
  ``endpoint_requests_started_total{endpoint}``, ``request_internal_errors_total{endpoint}``,
  the histogram ``request_duration{endpoint}`` and the gauge ``last_call_timestamp``.

User gauges from the entry class's ``metrics()`` are appended.
"""
from __future__ import annotations

import math
import re
import threading
import time
from typing import Any, Dict, Iterable, List, Tuple

# Racetrack's buckets: 1 ms to 1000 s.
BUCKETS: Tuple[float, ...] = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0)

_NAME_OK = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL_OK = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(pairs: Iterable[Tuple[str, str]]) -> str:
    inner = ",".join(f'{k}="{_escape(str(v))}"' for k, v in pairs)
    return "{" + inner + "}" if inner else ""


def _num(v: float) -> str:
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, int):
        return str(v)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return repr(float(v))


class _Histogram:
    __slots__ = ("counts", "sum", "count")

    def __init__(self) -> None:
        self.counts = [0] * len(BUCKETS)
        self.sum = 0.0
        self.count = 0

    def observe(self, seconds: float) -> None:
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                self.counts[i] += 1
                break
        self.sum += seconds
        self.count += 1

    def render(self, name: str, labels: List[Tuple[str, str]], out: List[str]) -> None:
        cumulative = 0
        for bound, c in zip(BUCKETS, self.counts):
            cumulative += c
            out.append(f"{name}_bucket{_labels(labels + [('le', _num(bound))])} {cumulative}")
        out.append(f"{name}_bucket{_labels(labels + [('le', '+Inf')])} {self.count}")
        out.append(f"{name}_sum{_labels(labels)} {_num(self.sum)}")
        out.append(f"{name}_count{_labels(labels)} {self.count}")


class Metrics:
    """Thread-safe counters and histograms; :meth:`render` gives the exposition text."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Dict[Tuple[str, str, str], int] = {}
        self._durations: Dict[str, _Histogram] = {}
        self._in_flight = 0
        # Racetrack series (calls of perform and auxiliary endpoints).
        self._started = 0
        self._done = 0
        self._endpoint_started: Dict[str, int] = {}
        self._internal_errors: Dict[str, int] = {}
        self._call_durations: Dict[str, _Histogram] = {}
        self._last_call = 0.0
        self.ready = False
        self.init_seconds = float("nan")
        self.start_time = time.time()

    # -- every HTTP request
    def request_started(self) -> None:
        with self._lock:
            self._in_flight += 1

    def request_done(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        with self._lock:
            self._in_flight -= 1
            key = (endpoint, method, str(status))
            self._requests[key] = self._requests.get(key, 0) + 1
            h = self._durations.get(endpoint)
            if h is None:
                h = self._durations[endpoint] = _Histogram()
            h.observe(seconds)

    # -- calls of the user's methods (Racetrack's series)
    def call_started(self, endpoint: str) -> None:
        with self._lock:
            self._started += 1
            self._endpoint_started[endpoint] = self._endpoint_started.get(endpoint, 0) + 1

    def call_done(self, endpoint: str, seconds: float, internal_error: bool) -> None:
        with self._lock:
            self._done += 1
            if internal_error:
                self._internal_errors[endpoint] = self._internal_errors.get(endpoint, 0) + 1
            h = self._call_durations.get(endpoint)
            if h is None:
                h = self._call_durations[endpoint] = _Histogram()
            h.observe(seconds)
            self._last_call = time.time()

    def internal_error(self, endpoint: str) -> None:
        """A call that returned but whose result could not be encoded."""
        with self._lock:
            self._internal_errors[endpoint] = self._internal_errors.get(endpoint, 0) + 1

    def render(self, user_metrics: List[Dict[str, Any]]) -> str:
        out: List[str] = []
        with self._lock:
            out.append("# HELP pitlane_job_requests_total HTTP requests served, by endpoint, method and status.")
            out.append("# TYPE pitlane_job_requests_total counter")
            for (endpoint, method, status), n in sorted(self._requests.items()):
                out.append(f"pitlane_job_requests_total{_labels([('endpoint', endpoint), ('method', method), ('status', status)])} {n}")
            out.append("# HELP pitlane_job_request_duration_seconds Time to answer an HTTP request, by endpoint.")
            out.append("# TYPE pitlane_job_request_duration_seconds histogram")
            for endpoint, h in sorted(self._durations.items()):
                h.render("pitlane_job_request_duration_seconds", [("endpoint", endpoint)], out)
            out.append("# HELP pitlane_job_requests_in_flight HTTP requests being answered now.")
            out.append("# TYPE pitlane_job_requests_in_flight gauge")
            out.append(f"pitlane_job_requests_in_flight {self._in_flight}")
            out.append("# HELP pitlane_job_ready 1 once the entry class is constructed.")
            out.append("# TYPE pitlane_job_ready gauge")
            out.append(f"pitlane_job_ready {1 if self.ready else 0}")
            out.append("# HELP pitlane_job_init_duration_seconds Time the import and construction of the entry class took.")
            out.append("# TYPE pitlane_job_init_duration_seconds gauge")
            out.append(f"pitlane_job_init_duration_seconds {_num(self.init_seconds)}")
            out.append("# HELP process_start_time_seconds Start time of the process since the Unix epoch in seconds.")
            out.append("# TYPE process_start_time_seconds gauge")
            out.append(f"process_start_time_seconds {_num(self.start_time)}")

            out.append("# HELP requests_started_total Calls of perform and auxiliary endpoints started.")
            out.append("# TYPE requests_started_total counter")
            out.append(f"requests_started_total {self._started}")
            out.append("# HELP requests_done_total Calls of perform and auxiliary endpoints finished.")
            out.append("# TYPE requests_done_total counter")
            out.append(f"requests_done_total {self._done}")
            out.append("# HELP endpoint_requests_started_total Calls started, by endpoint.")
            out.append("# TYPE endpoint_requests_started_total counter")
            for endpoint, n in sorted(self._endpoint_started.items()):
                out.append(f"endpoint_requests_started_total{_labels([('endpoint', endpoint)])} {n}")
            out.append("# HELP request_internal_errors_total Calls that raised, by endpoint.")
            out.append("# TYPE request_internal_errors_total counter")
            for endpoint, n in sorted(self._internal_errors.items()):
                out.append(f"request_internal_errors_total{_labels([('endpoint', endpoint)])} {n}")
            out.append("# HELP request_duration Duration of calls, by endpoint, in seconds.")
            out.append("# TYPE request_duration histogram")
            for endpoint, h in sorted(self._call_durations.items()):
                h.render("request_duration", [("endpoint", endpoint)], out)
            out.append("# HELP last_call_timestamp Unix time of the last finished call.")
            out.append("# TYPE last_call_timestamp gauge")
            out.append(f"last_call_timestamp {_num(self._last_call)}")

        seen = set()
        for m in sorted(user_metrics, key=lambda x: str(x.get("name", ""))):
            name = m.get("name", "")
            if not _NAME_OK.match(name):
                continue
            try:
                value = float(m.get("value"))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                continue
            labels = m.get("labels") or {}
            pairs = [(str(k), str(v)) for k, v in labels.items() if _LABEL_OK.match(str(k))] if isinstance(labels, dict) else []
            if name not in seen:
                seen.add(name)
                description = str(m.get("description") or name).replace("\\", "\\\\").replace("\n", "\\n")
                out.append(f"# HELP {name} {description}")
                out.append(f"# TYPE {name} gauge")
            out.append(f"{name}{_labels(pairs)} {_num(value)}")
        return "\n".join(out) + "\n"
