# Sourced by the build-*.sh scripts. A release whose go.mod has `replace` lines (Kubernetes pinned to
# a release, forks) is refused by `go install`; a wrapper module that requires the release and copies
# its non-relative replaces builds the same dependency graph. A relative replace (`=> ./x`) cannot
# be copied: such a release does not build this way.
#   write_wrapper_module MODULE VERSION TOOL_PKG WRAPPER_NAME > go.mod
write_wrapper_module() {
  local module="$1" version="$2" tool="$3" name="$4" gomod
  gomod="$(go list -m -json "$module@$version" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  echo "module modelship.dev/hack/$name"
  echo
  grep -E '^go ' "$gomod"
  echo
  echo "require $module $version"
  echo
  awk '/^replace \($/ {inblock=1; next} inblock && /^\)$/ {inblock=0; next}
       inblock && $2=="=>" && $3 !~ /^[.\/]/ {print "replace " $1 " => " $3 " " $4}
       /^replace [^(]/ && $3=="=>" && $4 !~ /^[.\/]/ {print}' "$gomod"
  echo
  echo "tool $tool"
}
