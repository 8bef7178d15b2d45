SELECT sum(cost_usd), count(cost_usd) FROM ai_cost WHERE time >= '2026-10-01' AND time < '2026-11-04' GROUP BY *
