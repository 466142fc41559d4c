"""Appender selection and order follow Kiali's ParseAppenders."""

import pytest

from meshreport.errors import UsageError
from meshreport.graph.appenders import load, select, selected_names


def test_all_appenders_in_kiali_order():
    names = selected_names(None)
    assert names[:3] == ["serviceEntry", "deadNode", "workloadEntry"]
    assert names.index("meshCheck") < names.index("extensions") < names.index("outsider") < names.index("istio")
    assert names[-1] == "trafficGenerator" and "health" in names


def test_explicit_list_keeps_always_on_finalizers_and_aliases():
    assert selected_names([]) == ["extensions", "outsider", "trafficGenerator"]
    assert selected_names(["sidecarsCheck", "deadNode", ""]) == [
        "deadNode",
        "meshCheck",
        "extensions",
        "outsider",
        "trafficGenerator",
    ]
    with pytest.raises(UsageError, match=r"Invalid appender \[bogus\]"):
        selected_names(["bogus"])


def test_select_splits_namespace_appenders_and_finalizers():
    ns_apps, finals = select(["istio", "responseTime", "aggregateNode"])
    assert [a.name for a in ns_apps] == ["responseTime", "aggregateNode"]  # in Kiali's order
    assert [a.name for a in finals] == ["outsider", "istio", "trafficGenerator"]
    assert load("labeler") is None
