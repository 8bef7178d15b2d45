-- params: min_status=int:500 slow=float:250.5 per=duration:1m
SELECT count(*), rate(*, $per) FROM requests WHERE status >= $min_status AND latency_ms > $slow
