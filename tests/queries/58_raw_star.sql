SELECT * FROM requests WHERE time > now() - 20m
