SELECT count(*) FROM requests WHERE time >= '2026-11-04T04:00:00Z' GROUP BY time(2h, -15m)
