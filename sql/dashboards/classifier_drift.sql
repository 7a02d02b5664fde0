-- Population stability index per hour and dimension (task, tier, length, script) against the
-- training distribution: < 0.1 stable, 0.1-0.25 watch, > 0.25 drift. In the time range.
SELECT hour, model_version, dimension, round(sum((actual - expected) * log(actual / expected)), 4) AS psi,
       multiIf(psi < 0.1, 'stable', psi < 0.25, 'watch', 'drift') AS status, any(total) AS requests
FROM
(
    SELECT b.hour AS hour, b.model_version AS model_version, b.dimension AS dimension, t.total AS total,
           greatest(b.n / t.total, 0.0001) AS actual, greatest(b.expected, 0.0001) AS expected
    FROM
    (
        SELECT toStartOfHour(window_start) AS hour, model_version, dimension, bucket, sum(count) AS n,
               any(expected_share) AS expected
        FROM llm.classifier_drift FINAL
        WHERE window_start BETWEEN {from:DateTime} AND {to:DateTime}
        GROUP BY hour, model_version, dimension, bucket
    ) AS b
    INNER JOIN
    (
        SELECT toStartOfHour(window_start) AS hour, model_version, dimension, sum(count) AS total
        FROM llm.classifier_drift FINAL
        WHERE window_start BETWEEN {from:DateTime} AND {to:DateTime}
        GROUP BY hour, model_version, dimension
    ) AS t USING (hour, model_version, dimension)
    WHERE t.total > 0
)
GROUP BY hour, model_version, dimension
ORDER BY hour DESC, dimension
