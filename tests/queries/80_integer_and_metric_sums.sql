SELECT sum(tokens), mean(tokens), min(tokens), max(tokens), last(model), first(model) FROM ai_usage WHERE time >= '2026-11-01' GROUP BY platform, user
