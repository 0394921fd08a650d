#!/usr/bin/env bash
# Builds Traefik, the Gateway API implementation the e2e tier sends real requests through, from its
# Go module (no binary downloads) into a cache outside the clone, keyed by Traefik and Go version,
# like build-argocd.sh does for Argo CD. Prints the bin directory on stdout; progress goes to stderr.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
# shellcheck source=wrapper-module.sh
source "$here/wrapper-module.sh"

export GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0 GOFLAGS=-trimpath
command -v go >/dev/null || { echo "build-traefik: go is not installed (needed to build Traefik)" >&2; exit 1; }
go_version="$(go env GOVERSION)"
cache="${MODELSHIP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/modelship}"
bin="$cache/bin/traefik-$TRAEFIK_VERSION-$go_version"
mod="$cache/build/traefik-$TRAEFIK_VERSION"

log() { printf '[build-traefik %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# Traefik's own CRDs (traefik.io: TraefikService, IngressRoute, ...) from the module source, beside
# the binary: the harness installs them for Traefik's CRD provider (hack/cluster/gateway.ts).
copy_crds() {
  local dir
  dir="$(go mod download -json "github.com/traefik/traefik/v3@$TRAEFIK_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
  cp "$dir/docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml" "$bin/traefik-crds.yaml.tmp"
  mv "$bin/traefik-crds.yaml.tmp" "$bin/traefik-crds.yaml"
}

# Warm cache: nothing to build (the CRD copy is added to a cache built before it existed).
if [[ -x "$bin/traefik" ]]; then
  [[ -f "$bin/traefik-crds.yaml" ]] || copy_crds
  echo "$bin"
  exit 0
fi
mkdir -p "$bin" "$mod"
module="github.com/traefik/traefik/v3"
go list -m -json "$module@$TRAEFIK_VERSION" >/dev/null 2>&1 || {
  echo "build-traefik: cannot reach the Go module proxy for $module@$TRAEFIK_VERSION" >&2; exit 1; }

# The release's go.mod swaps three modules for forks with replace lines, which `go install`
# refuses; a wrapper module that copies them (all point at published versions) builds the same
# dependency graph as the release. v3.7 adds a relative replace, which no wrapper can copy.
write_wrapper_module "$module" "$TRAEFIK_VERSION" "$module/cmd/traefik" traefik-bin >"$mod/go.mod"
start=$SECONDS
log "resolving $module $TRAEFIK_VERSION modules (first time: several hundred MB)"
(cd "$mod" && go mod tidy >&2)
log "tidy took $((SECONDS - start)) s; building traefik (cold: ~10 minutes on 2 cores)"
start=$SECONDS
ld="-s -w -X $module/pkg/version.Version=$TRAEFIK_VERSION -X $module/pkg/version.Codename=modelship"
ld+=" -X $module/pkg/version.BuildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
(cd "$mod" && go build -ldflags "$ld" -o "$bin/traefik.tmp" "$module/cmd/traefik" >&2)
log "build took $((SECONDS - start)) s"
copy_crds
# The binary lands last: its presence is what marks the cache warm.
mv "$bin/traefik.tmp" "$bin/traefik"
log "Traefik ready in $bin"
echo "$bin"
