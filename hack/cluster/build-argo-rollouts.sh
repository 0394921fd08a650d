#!/usr/bin/env bash
# Builds the Argo Rollouts controller, the peer hack/bench compares modelship with, from its Go
# module (no binary downloads) into a cache outside the clone, keyed by Argo Rollouts and Go version,
# like build-argocd.sh. Its CRDs come out of the same module. Not used by hack/test: benchmarks only.
# Prints the bin directory on stdout; progress goes to stderr.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
# shellcheck source=wrapper-module.sh
source "$here/wrapper-module.sh"

export GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0 GOFLAGS=-trimpath
command -v go >/dev/null || { echo "build-argo-rollouts: go is not installed" >&2; exit 1; }
go_version="$(go env GOVERSION)"
cache="${MODELSHIP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/modelship}"
bin="$cache/bin/argo-rollouts-$ARGO_ROLLOUTS_VERSION-$go_version"
mod="$cache/build/argo-rollouts-$ARGO_ROLLOUTS_VERSION"

log() { printf '[build-argo-rollouts %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# Warm cache: nothing to build, nothing to download.
if [[ -x "$bin/rollouts-controller" && -d "$bin/crds" ]]; then
  echo "$bin"
  exit 0
fi
mkdir -p "$bin" "$mod"
module="github.com/argoproj/argo-rollouts"
go list -m -json "$module@$ARGO_ROLLOUTS_VERSION" >/dev/null 2>&1 || {
  echo "build-argo-rollouts: cannot reach the Go module proxy for $module@$ARGO_ROLLOUTS_VERSION" >&2; exit 1; }

# Like Argo CD, the release pins Kubernetes with replace lines, which `go install` refuses.
write_wrapper_module "$module" "$ARGO_ROLLOUTS_VERSION" "$module/cmd/rollouts-controller" \
  argo-rollouts-bin >"$mod/go.mod"
start=$SECONDS
log "resolving $module $ARGO_ROLLOUTS_VERSION modules"
(cd "$mod" && go mod tidy >&2)
log "tidy took $((SECONDS - start)) s; building rollouts-controller (cold: ~6 minutes on 2 cores)"
start=$SECONDS
pkg="$module/utils/version"
ld="-s -w -X $pkg.version=${ARGO_ROLLOUTS_VERSION#v} -X $pkg.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
ld+=" -X $pkg.gitTag=$ARGO_ROLLOUTS_VERSION -X $pkg.gitTreeState=clean"
(cd "$mod" && go build -ldflags "$ld" -o "$bin/rollouts-controller.tmp" "$module/cmd/rollouts-controller" >&2)
log "build took $((SECONDS - start)) s"
dir="$(cd "$mod" && go mod download -json "$module@$ARGO_ROLLOUTS_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
rm -rf "$bin/crds.tmp" && mkdir -p "$bin/crds.tmp"
cp "$dir"/manifests/crds/*-crd.yaml "$bin/crds.tmp/"
chmod -R u+w "$bin/crds.tmp"
rm -rf "$bin/crds" && mv "$bin/crds.tmp" "$bin/crds"
# The binary lands last: its presence is what marks the cache warm.
mv "$bin/rollouts-controller.tmp" "$bin/rollouts-controller"
log "Argo Rollouts ready in $bin"
echo "$bin"
