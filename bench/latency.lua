-- wrk reports one JSON object on stdout when a run ends (bench/run.py reads the last line).
-- Latencies are in microseconds; duration too.

local extra_headers = os.getenv("BENCH_HEADERS")
if extra_headers and extra_headers ~= "" then
  for pair in string.gmatch(extra_headers, "[^\n]+") do
    local name, value = string.match(pair, "^([^:]+):%s*(.*)$")
    if name then wrk.headers[name] = value end
  end
end

function done(summary, latency, requests)
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "mean_us": %.1f, "max_us": %d}\n',
    summary.requests, summary.duration, summary.bytes,
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max))
end
