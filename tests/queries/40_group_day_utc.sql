SELECT count(*), sum(bytes_out) FROM requests WHERE time >= '2026-10-31' GROUP BY day(time)
