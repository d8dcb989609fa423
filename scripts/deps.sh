#!/usr/bin/env bash
# deps.sh installs the system tools fixgraph's tests and demo need, once; it does nothing when
# they are there already. pdftotext (Debian poppler-utils) reads PDFs whose fonts the built-in
# reader cannot decode (the Type 3 policy fixture). Chromium runs the web editor's browser tests
# (internal/browser, through chromedp); FIXGRAPH_CHROMIUM, when set, names the browser to use instead.
# Tesseract 5 with its Simplified Chinese, Traditional Chinese and English data reads scanned PDF
# pages (no text layer) that pdftoppm, from poppler-utils too, rasterises. scripts/servers.sh
# starts the test servers: Neo4j on Java 17 with its jars fetched by Maven, and a throw-away
# PostgreSQL cluster from Debian's postgresql (15 on Debian 12).
set -euo pipefail

need=()
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
command -v tesseract >/dev/null 2>&1 || need+=(tesseract-ocr)
# Language data: look where tesseract says it keeps it, else where Debian puts it.
tessdata=""
if command -v tesseract >/dev/null 2>&1; then
	tessdata=$(tesseract --list-langs 2>&1 | sed -n 's/^List of available languages in "\(.*\)".*/\1/p' || true)
fi
for lang in chi_sim chi_tra eng; do
	if [ -n "$tessdata" ] && [ -f "$tessdata/$lang.traineddata" ]; then
		continue
	fi
	ls /usr/share/tesseract-ocr/*/tessdata/"$lang".traineddata >/dev/null 2>&1 || need+=("tesseract-ocr-${lang//_/-}")
done
command -v curl >/dev/null 2>&1 || need+=(curl) # scripts/servers.sh polls Weaviate's readiness
command -v "${FIXGRAPH_CHROMIUM:-chromium}" >/dev/null 2>&1 || need+=(chromium)
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || need+=(maven)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)

# poppler-utils may be listed twice (pdftotext and pdftoppm).
mapfile -t need < <(printf '%s\n' ${need[@]+"${need[@]}"} | awk 'NF && !seen[$0]++')
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
