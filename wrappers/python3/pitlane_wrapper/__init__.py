"""Pitlane's python3 job wrapper: serves a user's class with a ``perform`` method over HTTP.

Standard library only (no PyPI at build or run time). Run it as::

    python -m pitlane_wrapper ENTRYPOINT_PATH [ENTRYPOINT_CLASS]

It speaks Racetrack's wrapper contract (DESIGN.md "Wrapper job types"), so Racetrack's python3 jobs
run unchanged: ``POST /api/v1/perform``, ``GET /api/v1/parameters``, auxiliary and static endpoints,
``/live``, ``/ready``, ``/health``, ``/metrics`` and ``/docs``, under ``/pub/job/{name}/{version}``
and at the root.
"""

__version__ = "1.0.0"
