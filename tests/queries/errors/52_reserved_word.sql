SELECT count(*) FROM requests GROUP BY order
