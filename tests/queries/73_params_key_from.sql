-- params: key=beta from=time:2026-11-03T00:00:00Z
SELECT count(*), count_distinct(endpoint) FROM requests WHERE time >= $from AND key = $key
