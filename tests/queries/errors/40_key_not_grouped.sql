SELECT hour_of_week(time), count(*) FROM requests
