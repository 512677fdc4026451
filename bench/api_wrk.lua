-- wrk script for bench/api.py: writes the run's figures as JSON to $WRK_JSON.
done = function(summary, latency, requests)
  local e = summary.errors
  local out = io.open(os.getenv("WRK_JSON"), "w")
  out:write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, ' ..
    '"read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d, ' ..
    '"p50_us": %d, "p99_us": %d, "mean_us": %.1f}',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(99), latency.mean))
  out:close()
end
