"""Collection: the only code that talks to the world (Prometheus, the Kubernetes API, YAML files).

Everything here ends in a `meshreport.snapshot.model.Snapshot` (or its config objects and gaps);
nothing after the snapshot imports from here.
"""
