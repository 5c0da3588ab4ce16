"""Compatibility package: Racetrack jobs import helpers from ``racetrack_job_wrapper``; Pitlane's
python3 wrapper provides the standard-library ones (``racetrack_job_wrapper.call.call_job``)."""
