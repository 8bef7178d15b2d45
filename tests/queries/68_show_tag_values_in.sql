SHOW TAG VALUES FROM ai_cost WITH KEY IN ("platform", "user") WHERE platform != 'openai'
