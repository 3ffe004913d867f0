# Helpers shared by scripts/test.sh and scripts/demo.sh (sourced, not run).

_phase_log=()
_start_all=${SECONDS}

# phase <title> <command...>: runs the command, prints its elapsed time, and
# exits the script with its status if it fails.
phase() {
  local title=$1
  shift
  local start=${SECONDS}
  echo "==> ${title}"
  local status=0
  "$@" || status=$?
  local took=$((SECONDS - start))
  local result="ok"
  [ "${status}" -eq 0 ] || result="FAILED (exit ${status})"
  _phase_log+=("$(printf '%5ds  %s: %s' "${took}" "${title}" "${result}")")
  echo "==> ${title}: ${result} in ${took}s"
  if [ "${status}" -ne 0 ]; then
    summary
    exit "${status}"
  fi
}

summary() {
  echo
  echo "==> elapsed time per phase"
  printf '%s\n' "${_phase_log[@]}"
  printf '%5ds  total\n' "$((SECONDS - _start_all))"
}

# ensure_packages <package...>: installs, with apt-get, those not yet installed.
ensure_packages() {
  local missing=()
  local p
  for p in "$@"; do
    if ! dpkg-query -W -f='${db:Status-Abbrev}' "${p}" 2>/dev/null | grep -q '^ii'; then
      missing+=("${p}")
    fi
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    echo "all ${#} packages are installed"
    return 0
  fi
  echo "installing: ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update || return
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
}
