SELECT count(*) FROM billing
