#!/usr/bin/env bash
# Vendor the API documentation pages' assets (Swagger UI, ReDoc) from the npm registry into the
# package, with their licences, so /docs and /redoc work offline (no CDN). The files are
# committed: a clone works without npm; run this script only to change the pinned versions.
#   scripts/vendor_assets.sh            (needs npm and tar)
set -euo pipefail

SWAGGER_UI=5.35.0   # swagger-ui-dist
REDOC=2.5.4         # redoc (2.x: the <redoc spec-url> element FastAPI's page uses)

root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/services/runtime/churnwatch_runtime/static/docs"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$work"
npm pack --silent "swagger-ui-dist@$SWAGGER_UI" "redoc@$REDOC" >/dev/null

rm -rf "$dest/swagger-ui" "$dest/redoc"
mkdir -p "$dest/swagger-ui" "$dest/redoc"

mkdir sw && tar xzf "swagger-ui-dist-$SWAGGER_UI.tgz" -C sw
for f in swagger-ui-bundle.js swagger-ui.css LICENSE NOTICE swagger-ui-bundle.js.LICENSE.txt; do
  cp "sw/package/$f" "$dest/swagger-ui/"
done

mkdir rd && tar xzf "redoc-$REDOC.tgz" -C rd
cp rd/package/bundles/redoc.standalone.js rd/package/LICENSE "$dest/redoc/"
[ -f rd/package/bundles/redoc.standalone.js.LICENSE.txt ] &&
  cp rd/package/bundles/redoc.standalone.js.LICENSE.txt "$dest/redoc/"

# Source maps are left out; a bundle's trailing sourceMappingURL would make browsers ask for them.
sed -i '/^\/\/# sourceMappingURL=/d' "$dest"/swagger-ui/*.js "$dest"/swagger-ui/*.css "$dest"/redoc/*.js

cat > "$dest/VERSIONS" <<VERSIONS
swagger-ui-dist $SWAGGER_UI (Apache-2.0, swagger-ui/LICENSE, swagger-ui/NOTICE)
redoc $REDOC (MIT, redoc/LICENSE)
from the npm registry by scripts/vendor_assets.sh
VERSIONS
echo "vendored into $dest:"
ls -la "$dest"/*
