SELECT count(*) FROM requests WHERE key = endpoint
