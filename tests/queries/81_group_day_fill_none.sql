SELECT count(*) FROM requests WHERE time >= '2026-10-30' AND time < '2026-11-05' GROUP BY time(1d) FILL(none)
