SELECT count(*), count(tokens), count(model), count(cached) FROM ai_usage WHERE time >= '2026-11-01' GROUP BY platform, user
