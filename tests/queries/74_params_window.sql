-- params: user=ana window=6d
SELECT sum(cost_usd) FROM ai_cost WHERE user = $user AND time > now() - $window GROUP BY platform
