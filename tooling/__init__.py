"""Development and measurement tooling around the service: the local stack (broker, simulator,
workers as processes), load clients, the demo, benchmarks, fault injection, the chaos suite and
the profiler. Nothing here runs in production; the service never imports it."""
