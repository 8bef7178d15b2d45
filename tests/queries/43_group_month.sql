SELECT sum(cost_usd), count(cost_usd) FROM ai_cost WHERE time >= '2026-09-01' AND time < '2026-12-01' GROUP BY month(time), platform TZ('America/Los_Angeles')
