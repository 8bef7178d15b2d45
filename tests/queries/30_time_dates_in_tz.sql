SELECT count(*) FROM requests WHERE time >= '2026-11-02' AND time < '2026-11-03' TZ('America/Los_Angeles')
