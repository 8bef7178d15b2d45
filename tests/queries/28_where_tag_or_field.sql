SELECT count(*) FROM requests WHERE key = 'beta' OR latency_ms > 600 GROUP BY key
