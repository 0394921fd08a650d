#!/usr/bin/env bash
# Builds Argo CD from its Go module (no binary downloads) into a cache outside the clone, keyed by
# Argo CD and Go version, like build-binaries.sh does for the control plane. One binary is every
# component, chosen by the name it runs under, so the others are symlinks to it. The CRDs come out
# of the same module. Prints the bin directory on stdout; progress goes to stderr.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
# shellcheck source=wrapper-module.sh
source "$here/wrapper-module.sh"

export GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0 GOFLAGS=-trimpath
# Argo CD v3.2.5 requires github.com/argoproj/notifications-engine at a pseudo-version that the
# public checksum database does not know, so checking it there fails. Only that one module skips
# the database; go.sum still pins its hash, and every other module is verified as usual.
export GONOSUMDB=github.com/argoproj/notifications-engine
command -v go >/dev/null || { echo "build-argocd: go is not installed (needed to build Argo CD)" >&2; exit 1; }
go_version="$(go env GOVERSION)"
cache="${MODELSHIP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/modelship}"
bin="$cache/bin/argocd-$ARGOCD_VERSION-$go_version"
mod="$cache/build/argocd-$ARGOCD_VERSION"
components=(argocd-server argocd-application-controller argocd-repo-server)

log() { printf '[build-argocd %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# Warm cache: nothing to build, nothing to download.
if [[ -x "$bin/argocd" && -d "$bin/crds" ]]; then
  echo "$bin"
  exit 0
fi
mkdir -p "$bin" "$mod"
module="github.com/argoproj/argo-cd/v3"
go list -m -json "$module@$ARGOCD_VERSION" >/dev/null 2>&1 || {
  echo "build-argocd: cannot reach the Go module proxy for $module@$ARGOCD_VERSION" >&2; exit 1; }

# The release's go.mod pins Kubernetes and a few others with replace lines, which `go install`
# refuses; a wrapper module that copies them (all point at published versions) builds the same
# dependency graph as the release.
write_wrapper_module "$module" "$ARGOCD_VERSION" "$module/cmd" argocd-bin >"$mod/go.mod"
start=$SECONDS
log "resolving $module $ARGOCD_VERSION modules (first time: several hundred MB)"
(cd "$mod" && go mod tidy >&2)
log "tidy took $((SECONDS - start)) s; building argocd (cold: 5–8 minutes on 2 cores)"
start=$SECONDS
pkg=github.com/argoproj/argo-cd/v3/common
ld="-s -w -X $pkg.version=${ARGOCD_VERSION#v} -X $pkg.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
ld+=" -X $pkg.gitTag=$ARGOCD_VERSION -X $pkg.gitTreeState=clean"
(cd "$mod" && go build -ldflags "$ld" -o "$bin/argocd.tmp" "$module/cmd" >&2)
log "build took $((SECONDS - start)) s"
for c in "${components[@]}"; do ln -sfn argocd "$bin/$c"; done
dir="$(cd "$mod" && go mod download -json "$module@$ARGOCD_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
rm -rf "$bin/crds.tmp" && mkdir -p "$bin/crds.tmp"
cp "$dir"/manifests/crds/*-crd.yaml "$bin/crds.tmp/"
chmod -R u+w "$bin/crds.tmp"
rm -rf "$bin/crds" && mv "$bin/crds.tmp" "$bin/crds"
# The binary lands last: its presence is what marks the cache warm.
mv "$bin/argocd.tmp" "$bin/argocd"
log "Argo CD ready in $bin"
echo "$bin"
