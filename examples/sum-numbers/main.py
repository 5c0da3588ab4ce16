"""sum-numbers: seed 000's docker-proxy job, a Flask server that sums numbers.

Pitlane calls `POST /perform` with a JSON object such as {"numbers": [40, 2]} and gets the sum
(here `42`) back as JSON. `GET /` and `GET /health` answer 200 so readiness probes see the server.
"""
import signal
import sys
from typing import List

from flask import Flask, jsonify, request

app = Flask(__name__)


def sum_numbers(numbers: List[float]) -> float:
    return sum(numbers)


@app.route("/perform", methods=['POST'])
def perform_endpoint():
    request_data = request.get_json(silent=True)
    if not isinstance(request_data, dict):
        return jsonify(error='expected a JSON object such as {"numbers": [40, 2]}'), 400
    numbers = request_data.get('numbers', [])
    # Validate the input ourselves, as the docker-proxy standard asks (bool is an int in Python).
    if not isinstance(numbers, list) or not all(
        isinstance(n, (int, float)) and not isinstance(n, bool) for n in numbers
    ):
        return jsonify(error='"numbers" must be a list of numbers'), 400
    return jsonify(sum_numbers(numbers))


@app.route("/", methods=['GET'])
@app.route("/health", methods=['GET'])
def health_endpoint():
    return jsonify(status='ok', job='sum-numbers')


if __name__ == '__main__':
    # As PID 1 in a container, Python ignores SIGTERM unless it handles it: exit promptly on stop.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    app.run(host='0.0.0.0', port=7004)
