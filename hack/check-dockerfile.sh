#!/usr/bin/env bash
# Checks the Dockerfile where no container engine runs: replays its stages outside a container,
# in a temporary copy of the build context, with the Node 24 on PATH.
#
#   hack/check-dockerfile.sh            # keeps nothing; KEEP=1 leaves the temp dir for a look
#
# What it proves: the build context (.dockerignore allow-list) is enough to `npm ci` and build;
# the bundle alone, with no node_modules anywhere above it, runs `node dist/main.js --version`; the
# runtime neither needs npm nor writes a file (read-only root filesystem), and runs as uid 65532
# when this script runs as root.
# What it cannot prove: that the base image pulls, or the image's layer contents; a real
# `docker build` (or hack/dagger/pipeline.ts) covers that where an engine exists.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dockerfile="$root/Dockerfile"
fail() { echo "check-dockerfile: $*" >&2; exit 1; }
step() { printf '[check-dockerfile] %s\n' "$*" >&2; }

major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
((major >= 24)) || fail "needs Node >= 24 on PATH (found $(node --version 2>/dev/null || echo none))"

# 1. The Dockerfile says what this script replays; if one changes, the other must follow.
step "static checks on $dockerfile"
# The ENTRYPOINT runs the bundle with the node flags hack/build.ts names (the benchmarks use them too),
# each as a JSON string followed by ", ".
flags="$(node --input-type=module -e 'import { NODE_FLAGS } from "'"$root"'/hack/build.ts";
  process.stdout.write(NODE_FLAGS.map((f) => `${JSON.stringify(f)}, `).join(""))')"
want=(
  '^FROM \$\{NODE_IMAGE\} AS build$'
  # Node 24 slim, by tag or pinned by digest (64 hex digits, nothing else).
  '^ARG NODE_IMAGE=node:24-bookworm-slim(@sha256:[0-9a-f]{64})?$'
  # No install script of any package runs in the build.
  'npm ci --ignore-scripts --no-audit'
  '^RUN npm run build$'
  '^ENV NODE_ENV=production$'
  '^USER 65532:65532$'
  "^ENTRYPOINT \\[\"node\", ${flags}\"dist/main.js\"\\]$"
  'org\.opencontainers\.image\.version='
  'org\.opencontainers\.image\.revision='
  'org\.opencontainers\.image\.source='
  'COPY --from=build /src/dist/main\.js \./dist/main\.js'
  'COPY crds \./crds'
)
for pattern in "${want[@]}"; do
  grep -Eq -- "$pattern" "$dockerfile" || fail "Dockerfile lacks a line matching: $pattern"
done
if ! grep -Eq '^ARG NODE_IMAGE=.*@sha256:' "$dockerfile"; then
  step "note: the base image is not pinned by digest (docs/security.md#supply-chain)"
fi
# The chart sets `args` (not `command`): with only a CMD, Kubernetes would run the base image's
# entrypoint with our flags as its arguments.
if grep -Eq '^CMD ' <(sed -n '/AS runtime/,$p' "$dockerfile"); then
  fail "the runtime stage must start the operator with ENTRYPOINT (the chart's args replace CMD)"
fi
if grep -Eq '^(RUN|CMD|ENTRYPOINT).*\bnpm (start|run)\b' <(sed -n '/AS runtime/,$p' "$dockerfile"); then
  fail "the runtime stage must not call npm"
fi

# `npm ci` as the Dockerfile runs it. Where the registry is out of reach (as on the project's
# build machines), fall back to the repository's node_modules, but only after checking they were
# installed from this very lockfile. Says so loudly when it does.
npm_ci() { # dir
  local dir="$1" args=(--ignore-scripts --no-audit --no-fund)
  if (cd "$dir" && npm ci "${args[@]}" --offline >/dev/null 2>&1); then return; fi
  if timeout 30 npm ping --fetch-retries=0 --fetch-timeout=10000 >/dev/null 2>&1; then
    (cd "$dir" && npm ci "${args[@]}" --prefer-offline >&2)
    return
  fi
  step "registry unreachable: using $root/node_modules (checked against package-lock.json) instead of npm ci"
  [[ -f "$root/node_modules/.package-lock.json" ]] || fail "no registry and no installed node_modules to stand in"
  node -e '
    const [lockPath, installedPath] = process.argv.slice(1);
    const want = require(lockPath).packages, have = require(installedPath).packages;
    const missing = Object.entries(want).filter(([k, v]) => k && !v.optional && have[k]?.version !== v.version);
    if (missing.length) { console.error("node_modules differ from the lockfile:", missing.slice(0, 5).map(([k]) => k)); process.exit(1); }
  ' "$dir/package-lock.json" "$root/node_modules/.package-lock.json" || fail "run npm ci in $root first"
  cp -R "$root/node_modules" "$dir/node_modules"
}

tmp="$(mktemp -d)"
chmod 755 "$tmp"
cleanup() { if [[ "${KEEP:-}" == 1 ]]; then step "kept $tmp"; else rm -rf "$tmp"; fi; }
trap cleanup EXIT

# 2. The build context: exactly the .dockerignore allow-list, minus its exclusions.
step "building the context from .dockerignore"
context="$tmp/context"
mkdir -p "$context"
while IFS= read -r line; do
  [[ "$line" == '!'* ]] || continue
  path="${line#!}"
  [[ -e "$root/$path" ]] || continue
  mkdir -p "$context/$(dirname "$path")"
  cp -R "$root/$path" "$context/$path"
done <"$root/.dockerignore"
find "$context" \( -name '*.test.ts' -o -name node_modules \) -prune -exec rm -rf {} +

# 3. Stage "build": WORKDIR /src, npm ci, npm run build.
step "stage build: npm ci && npm run build"
build="$tmp/build"
mkdir -p "$build/operator" "$build/hack"
cp "$context/package.json" "$context/package-lock.json" "$build/"
npm_ci "$build"
cp "$context/tsconfig.json" "$build/"
cp "$context/hack/build.ts" "$build/hack/build.ts"
cp -R "$context/operator/src" "$build/operator/src"
(cd "$build" && npm run build >&2)
[[ -f "$build/dist/main.js" ]] || fail "npm run build did not produce dist/main.js"

# 4. Stage "runtime": WORKDIR /app with package.json, dist/main.js, crds; no node_modules.
step "stage runtime: assembling /app"
app="$tmp/app"
mkdir -p "$app/dist"
cp "$context/package.json" "$app/"
cp "$build/dist/main.js" "$app/dist/main.js"
if [[ -d "$context/crds" ]]; then cp -R "$context/crds" "$app/crds"; fi
chmod -R a+rX,go-w "$tmp"
# Node resolves bare imports in every node_modules up to /: none may stand in for a missing bundle part.
for d in "$app" "$tmp" "$(dirname "$tmp")"; do
  [[ ! -e "$d/node_modules" ]] || fail "$d/node_modules exists; the bundle check would not be honest"
done

# 6. Run it like the image would: node only on PATH (npm is removed there), NODE_ENV=production,
#    no HOME, uid 65532 if we can, and check that nothing under /app was written.
step "runtime: the ENTRYPOINT with --version"
nodebin="$tmp/bin"
mkdir -p "$nodebin"
# A copy, not a link: the Node we run on may live under /root (700), which uid 65532 cannot enter,
# as in the image where node sits in /usr/local/bin.
cp "$(readlink -f "$(command -v node)")" "$nodebin/node"
chmod 755 "$tmp" "$nodebin" "$nodebin/node"
marker="$tmp/marker"
touch "$marker"
sleep 1
as_user=()
if [[ "$(id -u)" == 0 ]] && command -v setpriv >/dev/null; then
  as_user=(setpriv --reuid=65532 --regid=65532 --clear-groups)
fi
# Exactly the image's ENTRYPOINT (node, its flags, the bundle), plus --version.
mapfile -t entry < <(node -e '
  const line = require("fs").readFileSync(process.argv[1], "utf8").split("\n").find((l) => l.startsWith("ENTRYPOINT "));
  for (const a of JSON.parse(line.slice("ENTRYPOINT ".length))) console.log(a);
' "$dockerfile")
out="$(cd "$app" && "${as_user[@]}" env -i PATH="$nodebin" NODE_ENV=production "${entry[@]}" --version)" ||
  fail "${entry[*]} --version exited non-zero"
version="$(node -p 'require(process.argv[1]).version' "$app/package.json")"
[[ "$out" == *"$version"* ]] || fail "--version printed '$out', expected it to contain $version"
written="$(find "$app" -newer "$marker" -print | head -5)"
[[ -z "$written" ]] || fail "the runtime wrote files (a read-only root filesystem would refuse): $written"

step "ok: $out${as_user:+ (as uid 65532)}"
