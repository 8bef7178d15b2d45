SELECT count(*) FROM requests GROUP BY lower(key)
