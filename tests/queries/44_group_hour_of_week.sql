SELECT count(*) FROM requests WHERE time >= '2026-11-03' AND time < '2026-11-04' GROUP BY hour_of_week(time)
