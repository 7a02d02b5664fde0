-- The classifier inputs behind each routing decision.
ALTER TABLE llm.decisions ADD COLUMN IF NOT EXISTS classified_tier UInt8 AFTER version;
ALTER TABLE llm.decisions ADD COLUMN IF NOT EXISTS low_confidence UInt8 AFTER classified_tier;
ALTER TABLE llm.decisions ADD COLUMN IF NOT EXISTS pii UInt8 AFTER low_confidence
