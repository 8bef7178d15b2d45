SELECT count(*) FROM requests WHERE key IN ('acme', endpoint)
