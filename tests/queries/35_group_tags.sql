SELECT count(*), sum(bytes_out) FROM requests GROUP BY endpoint, key
