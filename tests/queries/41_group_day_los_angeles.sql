SELECT count(*) FROM requests WHERE time >= '2026-10-31' GROUP BY day(time) TZ('America/Los_Angeles')
