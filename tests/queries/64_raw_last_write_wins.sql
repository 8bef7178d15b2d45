SELECT cost_usd FROM ai_cost WHERE platform = 'claude_api' AND user = 'ana' AND time >= '2026-10-14' AND time < '2026-10-17'
