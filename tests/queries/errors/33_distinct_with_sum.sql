SELECT sum(DISTINCT bytes_out) FROM requests
