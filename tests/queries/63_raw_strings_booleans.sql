SELECT model, cached, tokens, platform FROM ai_usage WHERE user = 'ana' AND time >= '2026-11-03T12:00:00Z'
