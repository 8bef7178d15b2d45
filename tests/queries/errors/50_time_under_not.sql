SELECT count(*) FROM requests WHERE NOT time > now() - 1h
