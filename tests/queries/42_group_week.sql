SELECT sum(cost_usd) FROM ai_cost WHERE time >= '2026-09-28' AND time < '2026-11-09' GROUP BY week(time) TZ('America/Los_Angeles')
