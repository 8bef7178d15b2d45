SELECT max(latency_ms) FROM requests WHERE key IN ('beta', 'ci-runner') AND time >= now() - 2h GROUP BY key, time(20m) fill(previous)
