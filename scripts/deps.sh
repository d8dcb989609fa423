#!/usr/bin/env bash
# deps.sh installs the system tools fixgraph's tests and demo need, once; it does nothing when
# they are there already. pdftotext (Debian poppler-utils) reads PDFs whose fonts the built-in
# reader cannot decode (the Type 3 policy fixture).
set -euo pipefail

need=()
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
command -v curl >/dev/null 2>&1 || need+=(curl) # scripts/servers.sh polls Weaviate's readiness

if [ ${#need[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "deps.sh: please install: ${need[*]} (Debian/Ubuntu package names)" >&2
	exit 1
fi
echo "deps.sh: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
