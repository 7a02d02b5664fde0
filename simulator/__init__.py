"""A local HTTP server that speaks the providers' wire formats, for the demo, tests and benchmarks."""
