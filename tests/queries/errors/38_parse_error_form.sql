SELECT count(*) FORM requests
