-- How the quality memory routed, per 10 minutes: decisions it made (vs the tier rule), explored share, the chosen model's estimate and evidence, and first-try acceptance from the verdicts.
SELECT toStartOfTenMinutes(d.decided_at) AS period,
       count() AS decisions,
       countIf(d.reason LIKE '%estimated quality%' OR d.explored = 1) AS by_memory,
       round(avg(d.explored), 3) AS explored_share,
       round(avgIf(q, q >= 0), 3) AS chosen_estimate,
       round(avg(e), 2) AS chosen_evidence,
       round(avgIf(v.accepted, v.request_id != ''), 3) AS first_try_accepted
FROM (
    SELECT request_id, decided_at, reason, explored, round,
           candidate_quality[indexOf(candidate_models, model)] AS q,
           candidate_evidence[indexOf(candidate_models, model)] AS e
    FROM llm.decisions FINAL
    WHERE round = 0 AND startsWith(request_id, {prefix:String})
      AND decided_at BETWEEN {from:DateTime} AND {to:DateTime} AND ({tenant:String} = '' OR tenant = {tenant:String})
) AS d
LEFT JOIN (SELECT request_id, accepted FROM llm.verdicts FINAL
           WHERE round = 0 AND judged_at BETWEEN {from:DateTime} - INTERVAL 1 DAY AND {to:DateTime} + INTERVAL 1 DAY) AS v ON v.request_id = d.request_id
GROUP BY period
ORDER BY period
