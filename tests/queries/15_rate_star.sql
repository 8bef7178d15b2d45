SELECT rate(*), rate(*, 1h), count(*) FROM requests WHERE time >= '2026-11-04T06:00:00Z' AND time < '2026-11-04T10:00:00Z'
