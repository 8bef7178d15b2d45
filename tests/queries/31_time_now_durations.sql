SELECT count(*) FROM requests WHERE time > now() - 1h30m AND time <= now() - 30m
