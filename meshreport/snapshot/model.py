"""The snapshot model: what was collected, for which window, and what is missing.

Everything after collection (graph, health, validation, report) reads only these classes, so
the same snapshot always renders the same report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from meshreport.snapshot.table import SeriesTable

SCHEMA_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)


@dataclass(frozen=True)
class Window:
    """The time window a report covers, in unix seconds (end is the instant queries' time)."""

    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def duration_s(self) -> int:
        """Whole seconds, as used in PromQL rate ranges (`[<D>s]`)."""
        return int(round(self.end - self.start))


@dataclass(slots=True)
class Series:
    """One result series: its labels and either an instant value or (range) [t, v] points.

    Slotted: a big mesh holds hundreds of thousands of these.
    """

    labels: dict[str, str]
    value: float | None = None
    points: list[tuple[float, float]] | None = None


@dataclass
class QueryResult:
    """One PromQL query exactly as it ran, and what it returned.

    `key` names the query's role so analysis can find it without parsing PromQL, e.g.
    `graph/istio_requests_total/incoming`; `namespace` is the namespace it was run for.
    `kind` is `instant` (evaluated at `time`) or `range` (`start`..`time` at `step`).
    """

    key: str
    promql: str
    namespace: str | None
    kind: str
    time: float
    series: list[Series] = field(default_factory=list)
    start: float | None = None
    step: float | None = None
    params: dict[str, str] = field(default_factory=dict)

    @classmethod
    def deferred(cls, source: DeferredSeries, **fields: Any) -> QueryResult:
        """A result whose `series` are built by `source.unpack()` on first access (snapshot reading).

        Most of a big snapshot is series that one run never reads (trend lines for a graph
        export, the other percentiles); deferring them keeps reading cheap.
        """
        q = cls(**fields)
        del q.series
        q._source = source  # type: ignore[attr-defined]
        return q

    def __getattr__(self, name: str) -> Any:
        # Only reached while a deferred result's `series` have not been built yet.
        if name == "series":
            source = self.__dict__.get("_source")
            if source is not None:
                self.series = source.unpack()
                del self.__dict__["_source"]
                return self.series
        raise AttributeError(name)

    def series_count(self) -> int:
        """How many series, without building them when they are still packed."""
        source = self.__dict__.get("_source")
        return len(source) if source is not None else len(self.series)

    def table(self, names: tuple[str, ...]) -> SeriesTable:
        """The series as numpy columns of label value ids (`table.SeriesTable`), for readers of
        hundreds of thousands of series that group them before looking at strings."""
        source = self.__dict__.get("_source")
        if source is not None:
            return source.table(names)
        from meshreport.snapshot.table import from_series

        return from_series(self.series, names)


class DeferredSeries(Protocol):
    """Where a deferred `QueryResult` gets its series from (store.py: a packed query)."""

    def unpack(self) -> list[Series]: ...

    def __len__(self) -> int: ...

    def table(self, names: tuple[str, ...]) -> SeriesTable: ...


@dataclass(frozen=True)
class SourceRef:
    """Where a config object came from when it was read from a file (for findings, SARIF)."""

    file: str
    line: int


@dataclass
class ConfigObject:
    """A Kubernetes or Istio object as collected (secrets and noisy fields already stripped)."""

    api_version: str
    kind: str
    name: str
    namespace: str | None
    body: dict[str, Any]
    cluster: str = "Kubernetes"
    source: SourceRef | None = None

    @property
    def group(self) -> str:
        return self.api_version.split("/")[0] if "/" in self.api_version else ""

    # Typed accessors: a body from a file or a snapshot may hold anything (`metadata: "oops"`,
    # `annotations: 7`); these always return a mapping. The shape guard (validation/shape.py)
    # reports such values and makes the deeper fields well-typed.

    @property
    def metadata(self) -> dict[str, Any]:
        return _mapping(self.body.get("metadata"))

    @property
    def labels(self) -> dict[str, str]:
        return _mapping(self.metadata.get("labels"))

    @property
    def annotations(self) -> dict[str, str]:
        return _mapping(self.metadata.get("annotations"))

    @property
    def spec(self) -> dict[str, Any]:
        return _mapping(self.body.get("spec"))

    def ref(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {ns}{self.name}"


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@dataclass
class Gap:
    """Something that should have been collected and was not; never silently dropped.

    `phase` is `metrics` or `config`; `what` names the query key or resource; `reason` is
    the one-line cause (HTTP status, timeout, forbidden, not installed ...).
    """

    phase: str
    what: str
    reason: str
    namespace: str | None = None
    cluster: str | None = None


@dataclass
class Diagnostic:
    """A fact about the collection the report should explain (e.g. no Istio metrics at all)."""

    code: str
    message: str
    causes: list[str] = field(default_factory=list)


@dataclass
class Source:
    """Where the data came from. Never holds credentials."""

    kind: str  # synthetic | prometheus | kubernetes | files | mixed
    prometheus_url: str | None = None
    clusters: list[str] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    description: str = ""


@dataclass
class Snapshot:
    """Everything one run collected. Written to disk as a `.mrsnap` file (see store.py)."""

    window: Window
    source: Source
    namespaces: list[str]
    queries: list[QueryResult] = field(default_factory=list)
    objects: list[ConfigObject] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    collector: dict[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def query(self, key: str, namespace: str | None = None) -> QueryResult | None:
        for q in self.queries:
            if q.key == key and q.namespace == namespace:
                return q
        return None

    def queries_for(self, prefix: str) -> list[QueryResult]:
        return [q for q in self.queries if q.key.startswith(prefix)]

    def objects_of(self, kind: str) -> list[ConfigObject]:
        return [o for o in self.objects if o.kind == kind]
