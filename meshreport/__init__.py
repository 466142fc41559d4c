"""meshreport: an Istio service mesh, frozen into a report people read."""

__version__ = "0.1.0"
