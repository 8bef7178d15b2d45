SELECT sum(bytes_out) AS bytes FROM requests GROUP BY key ORDER BY bytes DESC
