SELECT count(*) FROM requests WHERE endpoint = '/health' AND status_class = '2xx' AND bytes_out >= 0; SELECT count(*) FROM requests WHERE endpoint = '/health' AND NOT status_class = '2xx'
