#!/usr/bin/env bash
# Fuzzes tutor's file readers with libFuzzer (docs/limits.md, "Fuzzing").
#
#   bash scripts/fuzz.sh TARGET SECONDS
#
# TARGET is png, npy, safetensors, zip, pickle, answers, or all (each in turn, SECONDS each).
# The harnesses (Fuzz/Sources/) are built in debug mode with -sanitize=fuzzer into
# .build-fuzz (TUTOR_FUZZ_SANITIZERS=fuzzer,address adds AddressSanitizer, in
# .build-fuzz-address); TUTOR_FUZZ_SEED=N retraces the inputs of seed N (below). Each run
# starts from a copy of the committed seeds in Fuzz/Corpus/TARGET, so the committed corpus
# never grows. A thrown error is the right answer
# to a bad file; a trap, a crash, an input slower than the per-input timeout, or more than
# 2 GB of memory is a finding: the script then prints where the input that caused it was
# saved, and exits with status 1.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    echo "usage: bash scripts/fuzz.sh png|npy|safetensors|zip|pickle|answers|all SECONDS" >&2
    exit 2
}
[[ $# -eq 2 ]] || usage
targets=(png npy safetensors zip pickle answers)
if [[ $1 == all ]]; then
    selected=("${targets[@]}")
elif [[ " ${targets[*]} " == *" $1 "* ]]; then
    selected=("$1")
else
    echo "fuzz.sh: unknown target '$1'" >&2
    usage
fi
# libFuzzer reads -max_total_time=0 as "forever".
if ! [[ $2 =~ ^[0-9]+$ ]] || (( $2 < 1 )); then
    echo "fuzz.sh: SECONDS must be a whole number of at least 1, not '$2'" >&2
    usage
fi
seconds=$2

# Per target: the harness, the largest input tried (bytes), and the per-input timeout
# (seconds). The seeds are a few KB; larger inputs mostly slow the search down. The timeout
# is far above a normal input's time in this debug build (milliseconds), so only a hang or
# an input that grows the work far beyond its size trips it.
harness() {
    case $1 in
        png) echo FuzzPNG ;; npy) echo FuzzNpy ;; safetensors) echo FuzzSafeTensors ;;
        zip) echo FuzzZip ;; pickle) echo FuzzPickle ;; answers) echo FuzzAnswers ;;
    esac
}
max_len() {
    case $1 in
        png) echo 16384 ;; npy) echo 4096 ;; safetensors) echo 16384 ;;
        zip) echo 8192 ;; pickle) echo 16384 ;; answers) echo 4096 ;;
    esac
}
timeout_seconds=10
memory_limit_mb=2048
# TUTOR_FUZZ_SEED fixes libFuzzer's random choices (and Swift's hashing, which otherwise changes
# the order of dictionaries and so what counts as new coverage), so that a run retraces the
# same inputs as far as its seconds reach: CI passes 1, so that a commit's result does not
# depend on the luck of the draw. Unset or 0, every run explores afresh: that is a campaign.
seed=${TUTOR_FUZZ_SEED:-0}
if ! [[ $seed =~ ^[0-9]+$ ]]; then
    echo "fuzz.sh: TUTOR_FUZZ_SEED must be a whole number (0 for a random seed), not '$seed'" >&2
    exit 2
fi
seeding=()
if (( seed != 0 )); then seeding=(env SWIFT_DETERMINISTIC_HASHING=1); fi

sanitizers=${TUTOR_FUZZ_SANITIZERS:-fuzzer}
case $sanitizers in
    fuzzer) scratch=.build-fuzz; cflags=(-Xcc -fsanitize=fuzzer-no-link) ;;
    fuzzer,address) scratch=.build-fuzz-address; cflags=(-Xcc -fsanitize=fuzzer-no-link,address) ;;
    *) echo "fuzz.sh: TUTOR_FUZZ_SANITIZERS must be 'fuzzer' or 'fuzzer,address'" >&2; exit 2 ;;
esac

# Coverage for the Swift modules and for the C code of CPNG (libpng itself is the system's,
# uninstrumented: the fuzzer sees our handling of it, not its insides).
products=()
for target in "${selected[@]}"; do products+=(--product "$(harness "$target")"); done
if (( ${#selected[@]} == ${#targets[@]} )); then products=(); fi  # all: one build of everything
start=$(date +%s)
echo "fuzz.sh: building the harnesses (debug, -sanitize=$sanitizers) in $scratch" >&2
swift build --package-path Fuzz --scratch-path "$scratch" --disable-index-store -Xswiftc "-sanitize=$sanitizers" "${cflags[@]}" \
    "${products[@]}" >&2
echo "fuzz.sh: built in $(( $(date +%s) - start )) s" >&2

findings_folder=$scratch/findings
mkdir -p "$findings_folder"
work=$(mktemp -d "${TMPDIR:-/tmp}/tutor-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

status=0
for target in "${selected[@]}"; do
    corpus=$work/$target
    mkdir -p "$corpus"
    cp Fuzz/Corpus/"$target"/* "$corpus"/
    log=$findings_folder/$target.log
    artifacts=$findings_folder/$target-
    echo "fuzz.sh: $target for $seconds s (max_len $(max_len "$target"), timeout ${timeout_seconds} s, rss limit ${memory_limit_mb} MB, seed $( (( seed != 0 )) && echo "$seed" || echo random))" >&2
    set +e
    # Swift's own crash reporter would take the trap's signal before libFuzzer, which then
    # never saves the input; libFuzzer's report names the Swift message and the input.
    SWIFT_BACKTRACE=enable=no "${seeding[@]}" "$scratch/debug/$(harness "$target")" "$corpus" \
        -seed="$seed" -max_total_time="$seconds" -max_len="$(max_len "$target")" -timeout="$timeout_seconds" \
        -rss_limit_mb="$memory_limit_mb" -artifact_prefix="$artifacts" -print_final_stats=1 >"$log" 2>&1
    code=$?
    set -e
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    peak=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log")
    coverage=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 || true)
    echo "fuzz.sh: $target: ${runs:-?} inputs, ${rate:-?} exec/s, ${coverage:-cov: ?}, peak ${peak:-?} MB" >&2
    if (( code != 0 )); then
        status=1
        echo "fuzz.sh: $target: FINDING (libFuzzer exit status $code). Last lines of $log:" >&2
        grep -m 1 -E "Fatal error|Precondition failed|Assertion failed" "$log" >&2 || true  # a Swift trap's message
        tail -n 30 "$log" >&2
        saved=$(grep -o "Test unit written to [^ ]*" "$log" | sed 's/Test unit written to //' || true)
        echo "fuzz.sh: $target: the input is saved in: ${saved:-(see $log)}" >&2
        echo "fuzz.sh: replay with: SWIFT_BACKTRACE=enable=no $scratch/debug/$(harness "$target") ${saved:-INPUT}" >&2
    fi
done
exit $status
