#!/usr/bin/env bash
# Installs the C libraries tutor links against, when they are missing (Debian/Ubuntu): libpng,
# OpenBLAS, and zlib (named here although libpng-dev already brings it).
set -euo pipefail
missing=()
for package in libpng-dev libopenblas-dev zlib1g-dev; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "Installing ${missing[*]} ..." >&2
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
