#!/usr/bin/env bash
# deps.sh installs the system tools fixgraph's tests and demo need, once; it does nothing when
# they are there already. pdftotext (Debian poppler-utils) reads PDFs whose fonts the built-in
# reader cannot decode (the Type 3 policy fixture). Chromium runs the web editor's browser tests
# (internal/browser, through chromedp); FIXGRAPH_CHROMIUM, when set, names the browser to use instead.
set -euo pipefail

need=()
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
command -v curl >/dev/null 2>&1 || need+=(curl) # scripts/servers.sh polls Weaviate's readiness
command -v "${FIXGRAPH_CHROMIUM:-chromium}" >/dev/null 2>&1 || need+=(chromium)

if [ ${#need[@]} -eq 0 ]; then
	exit 0
fi
please() {
	echo "deps.sh: please install: ${need[*]} (Debian/Ubuntu package names)" >&2
	exit 1
}
command -v apt-get >/dev/null 2>&1 || please
if [ "$(id -u)" = 0 ]; then
	as_root() { "$@"; }
elif command -v sudo >/dev/null 2>&1; then
	as_root() { sudo "$@"; }
else
	please
fi
echo "deps.sh: installing ${need[*]}"
# env carries DEBIAN_FRONTEND through sudo, which resets the environment.
as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
