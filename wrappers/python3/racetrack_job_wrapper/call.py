"""``from racetrack_job_wrapper.call import call_job`` works in Pitlane jobs (see pitlane_wrapper.call)."""
from pitlane_wrapper.call import call_job

__all__ = ["call_job"]
