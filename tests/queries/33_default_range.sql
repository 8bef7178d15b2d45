SELECT count(*), sum(bytes_out) FROM requests
