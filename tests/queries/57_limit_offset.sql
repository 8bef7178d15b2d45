SELECT count(*) AS n FROM requests GROUP BY endpoint, key ORDER BY n DESC LIMIT 3 OFFSET 2
