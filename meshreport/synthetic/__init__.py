"""Synthetic meshes for samples, tests and benchmarks: a mesh model, the PromQL evaluator that
answers the collection plan from it offline, and the OpenMetrics writer that loads it into a
real Prometheus."""
