SELECT rate(*, 5) FROM requests
