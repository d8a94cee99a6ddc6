-- wrk script: prints one line "rps=N p50=MS p90=MS p99=MS p99.9=MS max=MS" at the end, the tail
-- in more detail than `wrk --latency` (which stops at p99).
done = function(summary, latency, requests)
  io.write(string.format("rps=%.0f", summary.requests / (summary.duration / 1e6)))
  for _, p in ipairs({50, 90, 99, 99.9}) do
    io.write(string.format(" p%g=%.2f", p, latency:percentile(p) / 1000))
  end
  io.write(string.format(" max=%.2f\n", latency.max / 1000))
end
