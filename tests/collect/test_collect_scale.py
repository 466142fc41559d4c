"""Collection at scale keeps its answers: batched, split and streamed, the snapshot says the same.

- the same synthetic mesh collected from a real Prometheus gives the snapshot main's collector
  wrote before batching and streaming (tests/fixtures/collect/baseline-main.mrsnap), equal after
  the documented normalisation (docs/snapshot-format.md, "Comparing snapshots"), batched or not;
- a Prometheus started with a tiny `--query.max-samples` refuses the batched requests: they are
  split in halves until they pass, the splits are recorded, and the data is still the same.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from meshreport.collect.prometheus import Collector, PrometheusConfig
from meshreport.progress import Progress
from meshreport.settings import Settings
from meshreport.snapshot import store
from meshreport.synthetic import meshes

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.prometheus import backfill, running_prometheus  # noqa: E402
from helpers.snapshot_compare import normalised  # noqa: E402

BASELINE = Path(__file__).resolve().parents[1] / "fixtures" / "collect" / "baseline-main.mrsnap"
WINDOW = meshes.BOOKINFO_WINDOW
STEP = 60


def mesh():
    """The mesh the baseline was collected from (by main's collector, see the fixture's README)."""
    return meshes.scalable_mesh(4, 40, seed=5)


@pytest.fixture(scope="module")
def tsdb(tmp_path_factory):
    work = tmp_path_factory.mktemp("scale-tsdb")
    om = work / "mesh.om"
    meshes.write_openmetrics(mesh(), om, WINDOW.start, WINDOW.end, step=STEP, preroll=2 * STEP)
    backfill(om, work / "data")
    om.unlink()
    return work


def collect(url: str, **flags):
    settings = Settings.load(
        env={},
        flags={"prometheus.url": url, "prometheus.scrape_interval": STEP, "prometheus.concurrency": 4, **flags},
    )
    return Collector(PrometheusConfig.from_settings(settings), Progress(quiet=True)).collect(WINDOW, None)


def comparable(snap, url: str) -> dict:
    doc = normalised(snap)
    doc["source"]["prometheus_url"] = doc["source"]["prometheus_url"].replace(url, "URL")
    doc["source"]["description"] = doc["source"]["description"].replace(url, "URL")
    doc["source"]["versions"] = {}
    return doc


def test_same_snapshot_as_main_batched_or_not(tsdb, tmp_path):
    baseline = store.read(BASELINE)
    with running_prometheus(None, tsdb) as url:
        batched = collect(url)
        single = collect(url, **{"prometheus.batch_namespaces": 1})
    want = comparable(baseline, baseline.source.prometheus_url)
    assert sum(len(q["series"]) for q in want["queries"]) > 1000
    for snap in (batched, single):
        assert comparable(snap, url) == want
    m = batched.collector["metrics"]
    assert m["request_count"] == 40 and m["query_count"] == 5 * 40 and m["split_count"] == 0
    assert single.collector["metrics"]["request_count"] == 5 * 40
    # every request is recorded with its cost, Prometheus' own time included
    rows = [dict(zip(m["requests"]["columns"], r, strict=True)) for r in m["requests"]["rows"]]
    assert len(rows) == 40 and all(r["outcome"] == "ok" and r["bytes"] > 0 for r in rows)
    assert all(isinstance(r["prometheus_seconds"], float) for r in rows)
    assert [r["seconds"] for r in rows] == sorted((r["seconds"] for r in rows), reverse=True)
    assert sum(r["series"] for r in rows) == m["series"]
    # written and read back, the collected file is the same again
    store.write(batched, tmp_path / "b.mrsnap")
    assert comparable(store.read(tmp_path / "b.mrsnap"), url) == want


def test_sample_limit_splits_batches_until_they_pass(tsdb):
    baseline = store.read(BASELINE)
    # The largest single-namespace query peaks at 58,460 samples, a request for all five at 182,440.
    with running_prometheus(None, tsdb, flags=("--query.max-samples=70000",)) as url:
        snap = collect(url)
    m = snap.collector["metrics"]
    assert m["split_count"] > 0 and m["failed_queries"] == 0
    assert all("sample or size limit" in s["reason"] and len(s["namespaces"]) > 1 for s in m["splits"])
    assert any(r[-1] == "split" for r in m["requests"]["rows"])
    assert comparable(snap, url) == comparable(baseline, baseline.source.prometheus_url)


def test_a_query_over_the_sample_limit_alone_is_a_gap(tsdb):
    with running_prometheus(None, tsdb, flags=("--query.max-samples=3000",)) as url:
        snap = collect(url)
    m = snap.collector["metrics"]
    gaps = [g for g in snap.gaps if g.phase == "metrics"]
    assert gaps and m["failed_queries"] == len(gaps)
    assert all("too many samples" in g.reason or "HTTP 422" in g.reason for g in gaps)
    assert all(g.namespace is not None for g in gaps)
