-- limits: max_rows=5
SELECT * FROM requests
