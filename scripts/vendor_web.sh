#!/usr/bin/env bash
# Vendor the dashboard's front-end packages from the npm registry into the API package, with
# their licences, so the dashboard works offline (no CDN). The files are committed: a clone
# works without npm; run this script only to change the pinned versions.
#   scripts/vendor_web.sh            (needs npm and tar)
# The dashboard's own code (static/dashboard/*.js) is plain ES modules: no build step.
set -euo pipefail

UPLOT=1.6.32   # uplot: small, fast time-series charts (MIT)

root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/services/api/churnwatch_api/static/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$work"
npm pack --silent "uplot@$UPLOT" >/dev/null

rm -rf "$dest/uplot"
mkdir -p "$dest/uplot"
mkdir up && tar xzf "uplot-$UPLOT.tgz" -C up
# the ES module build (imported by the dashboard's modules), its stylesheet and the licence
cp up/package/dist/uPlot.esm.js up/package/dist/uPlot.min.css up/package/LICENSE "$dest/uplot/"
sed -i '/^\/\/# sourceMappingURL=/d' "$dest"/uplot/*.js

cat > "$dest/VERSIONS" <<VERSIONS
uplot $UPLOT (MIT, uplot/LICENSE)
from the npm registry by scripts/vendor_web.sh
VERSIONS
echo "vendored into $dest:"
ls -la "$dest"/*
