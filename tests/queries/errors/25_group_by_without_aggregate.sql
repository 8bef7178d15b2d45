SELECT latency_ms FROM requests GROUP BY key
