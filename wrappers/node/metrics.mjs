/**
 * Prometheus metrics in the text exposition format (version 0.0.4), without a client library.
 * The same series as the python3 wrapper, so one dashboard covers both job types.
 *
 * Pitlane's, for every HTTP request, by route (`endpoint` is the route such as `/api/v1/perform`
 * or `/live`, `unmatched` for a 404, never the raw URL, so the cardinality stays bounded):
 *   pitlane_job_requests_total{endpoint,method,status}      counter
 *   pitlane_job_request_duration_seconds{endpoint}          histogram
 *   pitlane_job_requests_in_flight                          gauge
 *   pitlane_job_ready                                       gauge, 1 once loaded and init() finished
 *   pitlane_job_init_duration_seconds                       gauge, import + init() time
 *   process_start_time_seconds, process_cpu_seconds_total, process_resident_memory_bytes,
 *   nodejs_heap_used_bytes
 * Racetrack's job wrapper series, for calls of perform and the auxiliary endpoints (its dashboards
 * keep working):
 *   requests_started_total, requests_done_total, endpoint_requests_started_total{endpoint},
 *   request_internal_errors_total{endpoint}, request_duration{endpoint} (histogram, seconds),
 *   last_call_timestamp (gauge, Unix seconds, 0 = never)
 * and the job's own gauges from its `metrics()` export.
 */

/** Racetrack's buckets: 1 ms to 1000 s. */
export const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000];
const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function escapeLabel(value) {
  return String(value).replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labels(obj) {
  const entries = Object.entries(obj);
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

function num(value) {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (Number.isNaN(value)) return 'NaN';
  return String(value);
}

class Histogram {
  constructor() {
    this.counts = new Array(BUCKETS.length).fill(0);
    this.sum = 0;
    this.count = 0;
  }

  observe(seconds) {
    for (let i = 0; i < BUCKETS.length; i += 1) if (seconds <= BUCKETS[i]) this.counts[i] += 1;
    this.sum += seconds;
    this.count += 1;
  }

  render(name, lbls, out) {
    BUCKETS.forEach((le, i) => out.push(`${name}_bucket${labels({ ...lbls, le: num(le) })} ${this.counts[i]}`));
    out.push(`${name}_bucket${labels({ ...lbls, le: '+Inf' })} ${this.count}`);
    out.push(`${name}_sum${labels(lbls)} ${this.sum}`);
    out.push(`${name}_count${labels(lbls)} ${this.count}`);
  }
}

const sortedEntries = (map) => [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

export class Metrics {
  constructor() {
    this.requests = new Map();
    this.durations = new Map();
    this.inFlight = 0;
    this.ready = false;
    this.initSeconds = 0;
    this.callsStarted = 0;
    this.callsDone = 0;
    this.callsStartedByEndpoint = new Map();
    this.internalErrors = new Map();
    this.callDurations = new Map();
    this.lastCall = 0;
    this.startTime = Date.now() / 1000;
  }

  /** An HTTP request began. */
  requestStarted() {
    this.inFlight += 1;
  }

  /** An HTTP request to route `endpoint` was answered with `status` after `seconds`. */
  requestDone(endpoint, method, status, seconds) {
    this.inFlight = Math.max(0, this.inFlight - 1);
    const key = `${endpoint}\u0000${method}\u0000${status}`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    let h = this.durations.get(endpoint);
    if (!h) this.durations.set(endpoint, (h = new Histogram()));
    h.observe(seconds);
  }

  /** A call of perform or an auxiliary endpoint began. */
  callStarted(endpoint) {
    this.callsStarted += 1;
    this.callsStartedByEndpoint.set(endpoint, (this.callsStartedByEndpoint.get(endpoint) ?? 0) + 1);
  }

  /** A call finished; `internalError` when the job's code threw a 5xx error or its result could not be encoded. */
  callDone(endpoint, seconds, internalError) {
    this.callsDone += 1;
    if (internalError) this.internalErrors.set(endpoint, (this.internalErrors.get(endpoint) ?? 0) + 1);
    let h = this.callDurations.get(endpoint);
    if (!h) this.callDurations.set(endpoint, (h = new Histogram()));
    h.observe(seconds);
    this.lastCall = Date.now() / 1000;
  }

  /**
   * The exposition text.
   * @param {Array<{name: string, value: number, description?: string, labels?: Record<string, string>}>} userGauges
   */
  render(userGauges = []) {
    const out = [];
    const family = (name, type, help) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);

    family('pitlane_job_requests_total', 'counter', 'HTTP requests served, by endpoint, method and status.');
    for (const [key, n] of sortedEntries(this.requests)) {
      const [endpoint, method, status] = key.split('\u0000');
      out.push(`pitlane_job_requests_total${labels({ endpoint, method, status })} ${n}`);
    }
    family('pitlane_job_request_duration_seconds', 'histogram', 'Time to answer an HTTP request, by endpoint.');
    for (const [endpoint, h] of sortedEntries(this.durations)) h.render('pitlane_job_request_duration_seconds', { endpoint }, out);
    family('pitlane_job_requests_in_flight', 'gauge', 'HTTP requests being answered now.');
    out.push(`pitlane_job_requests_in_flight ${this.inFlight}`);
    family('pitlane_job_ready', 'gauge', '1 once the job module is loaded and its init() finished.');
    out.push(`pitlane_job_ready ${this.ready ? 1 : 0}`);
    family('pitlane_job_init_duration_seconds', 'gauge', "Time the import of the job module and its init() took.");
    out.push(`pitlane_job_init_duration_seconds ${num(this.initSeconds)}`);

    const mem = process.memoryUsage();
    const cpu = process.cpuUsage();
    family('process_start_time_seconds', 'gauge', 'Start time of the process since the Unix epoch in seconds.');
    out.push(`process_start_time_seconds ${this.startTime}`);
    family('process_cpu_seconds_total', 'counter', 'User and system CPU time of the process, in seconds.');
    out.push(`process_cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}`);
    family('process_resident_memory_bytes', 'gauge', 'Resident set size, in bytes.');
    out.push(`process_resident_memory_bytes ${mem.rss}`);
    family('nodejs_heap_used_bytes', 'gauge', 'V8 heap in use, in bytes.');
    out.push(`nodejs_heap_used_bytes ${mem.heapUsed}`);

    family('requests_started_total', 'counter', 'Calls of perform and auxiliary endpoints started.');
    out.push(`requests_started_total ${this.callsStarted}`);
    family('requests_done_total', 'counter', 'Calls of perform and auxiliary endpoints finished.');
    out.push(`requests_done_total ${this.callsDone}`);
    family('endpoint_requests_started_total', 'counter', 'Calls started, by endpoint.');
    for (const [endpoint, n] of sortedEntries(this.callsStartedByEndpoint)) out.push(`endpoint_requests_started_total${labels({ endpoint })} ${n}`);
    family('request_internal_errors_total', 'counter', 'Calls that threw (5xx), by endpoint.');
    for (const [endpoint, n] of sortedEntries(this.internalErrors)) out.push(`request_internal_errors_total${labels({ endpoint })} ${n}`);
    family('request_duration', 'histogram', 'Duration of calls, by endpoint, in seconds.');
    for (const [endpoint, h] of sortedEntries(this.callDurations)) h.render('request_duration', { endpoint }, out);
    family('last_call_timestamp', 'gauge', 'Unix time of the last finished call.');
    out.push(`last_call_timestamp ${this.lastCall}`);

    // A family's samples must be contiguous: group the job's gauges by name.
    const valid = userGauges.filter((g) => g && typeof g === 'object' && NAME.test(String(g.name)) && typeof g.value === 'number');
    valid.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const seen = new Set();
    for (const gauge of valid) {
      const lbls = {};
      if (gauge.labels && typeof gauge.labels === 'object') {
        for (const [k, v] of Object.entries(gauge.labels)) if (LABEL.test(k) && k !== 'le') lbls[k] = v;
      }
      if (!seen.has(gauge.name)) {
        seen.add(gauge.name);
        family(gauge.name, 'gauge', String(gauge.description ?? gauge.name).replace(/\\/g, '\\\\').replace(/\n/g, '\\n'));
      }
      out.push(`${gauge.name}${labels(lbls)} ${num(gauge.value)}`);
    }
    return `${out.join('\n')}\n`;
  }
}
