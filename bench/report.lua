-- report.lua - shared wrk summary: one machine-readable RESULT line.
function done(summary, latency, requests)
    local seconds = summary.duration / 1e6
    local errors = summary.errors.connect + summary.errors.read + summary.errors.write
        + summary.errors.status + summary.errors.timeout
    io.write(string.format("RESULT requests=%d rps=%.0f p50_ms=%.3f p99_ms=%.3f errors=%d\n",
        summary.requests, summary.requests / seconds, latency:percentile(50) / 1000,
        latency:percentile(99) / 1000, errors))
end
