-- What the answered requests cost versus sending every one to the most expensive top-tier model (same tokens; in the time range).
WITH strongest AS
(
    SELECT argMax(model, input_per_mtok + output_per_mtok) AS model,
           argMax(input_per_mtok, input_per_mtok + output_per_mtok) AS in_price,
           argMax(output_per_mtok, input_per_mtok + output_per_mtok) AS out_price
    FROM llm.model_prices FINAL
    WHERE tier = (SELECT max(tier) FROM llm.model_prices FINAL)
)
SELECT (SELECT model FROM strongest) AS baseline_model, count() AS requests,
       round(toFloat64(sum(cost_usd)), 6) AS actual_usd,
       round(sum(input_tokens * (SELECT in_price FROM strongest) + output_tokens * (SELECT out_price FROM strongest)) / 1e6, 6)
           AS all_strongest_usd,
       round(all_strongest_usd - actual_usd, 6) AS saved_usd,
       round(100 * saved_usd / greatest(all_strongest_usd, 1e-12), 1) AS saved_pct
FROM llm.requests FINAL
WHERE status = 'ok' AND completed_at BETWEEN {from:DateTime} AND {to:DateTime} AND ({tenant:String} = '' OR tenant = {tenant:String})
