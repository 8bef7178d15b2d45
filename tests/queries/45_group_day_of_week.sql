SELECT day_of_week(time) AS dow, count(*), sum(bytes_out) FROM requests WHERE time >= now() - 7d GROUP BY day_of_week(time) TZ('America/Los_Angeles')
