# bench_env.sh: the common start of the benchmark scripts that run real OTP
# (sourced: `. "$HERE/../bench_env.sh"` with HERE the script's directory).
# It uses the interop tests' helpers (tests/interop/lib.sh): private EPMD
# ports, every process tracked by pid and stopped at exit.  EDIST_BUILD
# defaults to build/release.
set -u
: "${EDIST_BUILD:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/release}"
export EDIST_BUILD
. "$(dirname "${BASH_SOURCE[0]}")/../tests/interop/lib.sh"
# Signals end the script through exit, which runs lib.sh's cleanup.
trap 'exit 130' INT
trap 'exit 143' TERM
need_otp

# bench_ratio A B: A / B to two decimals, or "-" when either is missing or
# B is 0.
bench_ratio() {
    if [ -n "$1" ] && [ -n "$2" ]; then
        awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'
    else
        echo "-"
    fi
}
