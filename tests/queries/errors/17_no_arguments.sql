SELECT count() FROM requests
