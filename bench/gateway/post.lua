-- wrk script shared by every target of the gateway benchmark: the same small JSON POST each time.
-- BENCH_TOKEN (env) adds `Authorization: Bearer <token>`; it is sent to every target so that the
-- bytes on the wire are the same (the echo job and nginx ignore it, the gateway checks it).
-- At the end one machine-readable line is printed: `BENCH_RESULT {json}` (latencies in µs).
wrk.method = "POST"
wrk.body = '{"hello":"world","n":42,"tags":["a","b","c"]}'
wrk.headers["Content-Type"] = "application/json"
local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"latency_us":{"mean":%.1f,"stdev":%.1f,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d},' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    latency.mean, latency.stdev,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
