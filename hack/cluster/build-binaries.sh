#!/usr/bin/env bash
# Builds the local control plane from Go modules (no binary downloads) into a cache outside the
# clone, keyed by component version and Go version, so a warm run finds them in milliseconds.
# Prints the bin directory on stdout; progress goes to stderr.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"

export GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0 GOFLAGS=-trimpath
command -v go >/dev/null || { echo "build-binaries: go is not installed (needed to build the control plane)" >&2; exit 1; }
go_version="$(go env GOVERSION)"
cache="${MODELSHIP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/modelship}"
bin="$cache/bin/k8s-$KUBE_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION-helm-$HELM_VERSION-$go_version-r2"
work="$cache/build"
mkdir -p "$bin" "$work"

log() { printf '[build-binaries %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
have() { for b in "$@"; do [[ -x "$bin/$b" ]] || return 1; done; }

# Fail fast with a clear message when the Go module proxy is out of reach.
preflight() {
  go list -m -json "k8s.io/kubernetes@$KUBE_VERSION" >/dev/null 2>&1 || {
    echo "build-binaries: cannot reach the Go module proxy for k8s.io/kubernetes@$KUBE_VERSION" >&2; exit 1; }
}

# k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with local paths,
# which a dependency cannot use: replace each with the v0.<minor>.<patch> tag published for it.
build_kube() {
  have kube-apiserver kube-controller-manager kube-scheduler kubectl && return
  local mod="$work/kube-$KUBE_VERSION" sv="v0${KUBE_VERSION#v1}" gomod
  mkdir -p "$mod"
  gomod="$(go list -m -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  {
    echo "module modelship.dev/hack/kube-bins"
    echo
    grep -E '^go ' "$gomod"
    grep -E '^godebug ' "$gomod" || true
    echo
    echo "require k8s.io/kubernetes $KUBE_VERSION"
    echo
    awk -v sv="$sv" '$1 ~ /^k8s\.io\// && $2=="v0.0.0" {print "replace " $1 " => " $1 " " sv}' "$gomod"
    echo
    echo "tool ("
    for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do echo "	k8s.io/kubernetes/cmd/$c"; done
    echo ")"
  } >"$mod/go.mod"
  log "resolving k8s.io/kubernetes $KUBE_VERSION modules (first time: several hundred MB)"
  (cd "$mod" && go mod tidy >&2)
  local minor="${KUBE_VERSION#v1.}"; minor="${minor%%.*}"
  local date ld=""; date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ld+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date"
  done
  for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    have "$c" && continue
    log "building $c $KUBE_VERSION (cold: several minutes each on 2 cores)"
    (cd "$mod" && go build -ldflags "-s -w$ld" -o "$bin/$c.tmp" "k8s.io/kubernetes/cmd/$c" >&2)
    mv "$bin/$c.tmp" "$bin/$c"
  done
}

# etcd's server module has relative replace lines, so `go install` refuses it; a wrapper module
# that requires it resolves the sibling modules at the same tag.
build_etcd() {
  have etcd && return
  local mod="$work/etcd-$ETCD_VERSION"
  mkdir -p "$mod"
  printf 'module modelship.dev/hack/etcd-bin\n\ngo 1.26.0\n\nrequire go.etcd.io/etcd/server/v3 %s\n\ntool go.etcd.io/etcd/server/v3\n' \
    "$ETCD_VERSION" >"$mod/go.mod"
  log "building etcd $ETCD_VERSION"
  (cd "$mod" && go mod tidy >&2 && go build -ldflags "-s -w" -o "$bin/etcd.tmp" go.etcd.io/etcd/server/v3 >&2)
  mv "$bin/etcd.tmp" "$bin/etcd"
}

go_install() { # name module/cmd version [ldflags]
  have "$1" && return
  log "building $1 $3"
  GOBIN="$bin" go install -ldflags "-s -w ${4:-}" "$2@$3" >&2
}

# Data files that ship inside Go modules: kwok's default stages (any --config without stages makes
# kwok refuse to start) and the Gateway API CRDs for the e2e cluster.
module_assets() {
  [[ -s "$bin/kwok-stages.yaml" && -d "$bin/gateway-api-crds" ]] && return
  local kwok_dir gw_dir
  kwok_dir="$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
  gw_dir="$(go mod download -json "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
  local s first=1
  for s in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
    pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
    ((first)) || echo "---"
    first=0
    cat "$kwok_dir/kustomize/stage/$s.yaml"
  done >"$bin/kwok-stages.yaml.tmp"
  mv "$bin/kwok-stages.yaml.tmp" "$bin/kwok-stages.yaml"
  mkdir -p "$bin/gateway-api-crds.tmp"
  cp "$gw_dir"/config/crd/standard/gateway.networking.k8s.io_*.yaml "$bin/gateway-api-crds.tmp/"
  chmod -R u+w "$bin/gateway-api-crds.tmp"
  rm -rf "$bin/gateway-api-crds" && mv "$bin/gateway-api-crds.tmp" "$bin/gateway-api-crds"
}

# Warm cache: nothing to build, nothing to download.
if have etcd kwok kube-apiserver kube-controller-manager kube-scheduler kubectl helm &&
  [[ -s "$bin/kwok-stages.yaml" && -d "$bin/gateway-api-crds" ]]; then
  echo "$bin"
  exit 0
fi
log "building the control plane into $bin (first time only)"
preflight
build_etcd
go_install kwok sigs.k8s.io/kwok/cmd/kwok "$KWOK_VERSION"
go_install kwokctl sigs.k8s.io/kwok/cmd/kwokctl "$KWOK_VERSION"
build_kube
# The k8sVersion keys set helm's default .Capabilities.KubeVersion for lint/template without a
# cluster; unset, helm assumes v1.20 and charts with a kubeVersion constraint refuse to render.
kube_minor="${KUBE_VERSION#v1.}"; kube_minor="${kube_minor%%.*}"
go_install helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION" \
  "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION \
   -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$kube_minor \
   -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$kube_minor"
module_assets
log "binaries ready in $bin"
echo "$bin"
