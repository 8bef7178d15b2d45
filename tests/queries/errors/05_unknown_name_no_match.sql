SELECT sum(cost_usd) FROM requests
