-- Each request's first routing decision: the model chosen, why, and every candidate's expected cost (the demo's learning phase replays the cascade from it).
SELECT request_id, model, tier, target_tier, reason, explored, candidate_models, candidate_tiers, candidate_costs, candidate_skips
FROM llm.decisions FINAL
WHERE round = 0 AND startsWith(request_id, {prefix:String})
