SELECT sum(model) FROM ai_usage
