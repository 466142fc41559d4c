"""The traffic graph, built from snapshot series with Kiali's semantics."""
