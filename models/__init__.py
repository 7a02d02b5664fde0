"""The request classifier: features, models and their artifacts. No Kafka, no HTTP."""
