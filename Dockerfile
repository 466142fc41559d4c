# meshreport image for the CronJobs in deploy/ (and CI): slim Python with Graphviz and the
# libraries WeasyPrint loads (Pango, HarfBuzz via Pango), a font, and a non-root user.
#   docker build -t registry.example.com/meshreport:latest .
FROM python:3.12-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends graphviz fonts-dejavu-core fontconfig libpango-1.0-0 libpangoft2-1.0-0 \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY meshreport ./meshreport
COPY templates ./templates
COPY samples ./samples
RUN pip install --no-cache-dir . && rm -rf /src

# Non-root, matching runAsUser in deploy/; the root file system can be read-only: HOME and caches
# point at /tmp, which the manifests mount as an emptyDir.
RUN useradd --uid 10001 --user-group --no-create-home --home-dir /tmp meshreport
USER 10001:10001
ENV HOME=/tmp XDG_CACHE_HOME=/tmp/cache PYTHONDONTWRITEBYTECODE=1
WORKDIR /tmp
ENTRYPOINT ["meshreport"]
CMD ["--help"]
