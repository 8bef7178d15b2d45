SELECT rate(*, 1h) AS per_hour, count(*) FROM requests WHERE time >= now() - 1h; SELECT rate(*, 1h) AS per_hour, count(*) FROM requests WHERE time > now() - 1h
