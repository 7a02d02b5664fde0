"""Local stand-ins for production infrastructure: a real Kafka broker started from Maven jars."""
