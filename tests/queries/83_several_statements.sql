SELECT count(*) FROM ai_cost WHERE time >= '2026-09-01'; SELECT count(*) FROM ai_usage WHERE time >= '2026-09-01'; SHOW TAG KEYS FROM ai_usage
