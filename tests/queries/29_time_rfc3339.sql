SELECT count(*), sum(bytes_out) FROM requests WHERE time >= '2026-11-02T06:00:00Z' AND time < '2026-11-02T18:00:00.5Z'
