SELECT key, count(*) FROM requests
