SELECT count(*) FROM requests WHERE key = $customer
