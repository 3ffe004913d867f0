#!/usr/bin/env bash
# Compile-time table of issue 24: compiles each case from a clean state (no
# precompiled header, no ccache, a fresh output file), one at a time as a user
# would, with g++ -O3, and prints a Markdown table of wall seconds and peak
# memory of the compiler (compile and link).
#
#   bench/compile_time.sh                      # every case, header-only
#   bench/compile_time.sh --compiled           # also with the compiled libraries
#                                              # (--kernels: the same, its former name)
#   bench/compile_time.sh --umbrella           # every case includes typenet/typenet.hpp
#   bench/compile_time.sh --only trainer       # one case
#   bench/compile_time.sh --repeat 3           # median of 3 compilations (range beside it)
#
# Cases: empty (bench/compile/empty.cpp, includes typenet/nn.hpp), trainer
# (bench/compile/trainer.cpp), resnet34 (bench/compile/resnet34.cpp), resnet34_any_size
# (the same with a model of dynamic extents),
# classify_folder (examples/classify_folder.cpp). The compiled column defines
# TYPENET_COMPILED_KERNELS, TYPENET_COMPILED_IO and TYPENET_COMPILED_VISION and
# links the three libraries (src/kernels.cpp, io.cpp, vision.cpp), built once
# beforehand (their build time is printed separately: a user pays it once,
# not per program), as a program linking typenet::compiled does.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

compiled=0
umbrella=0
repeat=1
only=""
cxx=${CXX:-g++}
while (($#)); do
  case $1 in
    --compiled | --kernels) compiled=1 ;;
    --umbrella) umbrella=1 ;;
    --only) only=$2; shift ;;
    --repeat) repeat=$2; shift ;;
    *) echo "compile_time.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

common=(-std=c++20 -O3 -DNDEBUG -fopenmp -I"$root/include" -isystem /usr/include/eigen3)
libs=(-lz -lstb -ljpeg -lpng -lgif)

header_of() {  # the umbrella each case includes
  if ((umbrella)); then echo '<typenet/typenet.hpp>'; return; fi
  case $1 in
    empty) echo '<typenet/nn.hpp>' ;;
    *) echo '<typenet/typenet.hpp>' ;;
  esac
}
source_of() {
  case $1 in
    classify_folder) echo "$root/examples/classify_folder.cpp" ;;
    *) echo "$root/bench/compile/$1.cpp" ;;
  esac
}

# time_one CASE KERNELS(0|1) -> "wall_s peak_MB" of one compilation
time_one() {
  local name=$1 with_compiled=$2
  local extra=() extra_libs=()
  if ((with_compiled)); then
    extra=("${compiled_defines[@]}")
    extra_libs=("$work/libtypenet_compiled.a")
  fi
  local src; src=$(source_of "$name")
  rm -f "$work/$name"
  /usr/bin/time -f '%e %M' -o "$work/time" \
    "$cxx" "${common[@]}" "${extra[@]}" -DTYPENET_BENCH_HEADER="$(header_of "$name")" \
    -I"$root/examples" "$src" -o "$work/$name" "${extra_libs[@]}" "${libs[@]}" >"$work/log" 2>&1 || {
    cat "$work/log" >&2
    echo "compile_time.sh: $name failed to compile" >&2
    exit 1
  }
  read -r wall kb <"$work/time"
  echo "$wall $((kb / 1024))"
}

# time_median CASE KERNELS -> "median_s (min-max) peak_MB" over --repeat compilations;
# the machine is shared and noisy, so single compilations vary by tens of percent.
time_median() {
  local walls=() peak=0 w m
  for ((r = 0; r < repeat; ++r)); do
    read -r w m < <(time_one "$1" "$2")
    walls+=("$w")
    ((m > peak)) && peak=$m
  done
  python3 -c 'import statistics, sys
v = sorted(float(x) for x in sys.argv[2:])
print(f"{statistics.median(v):.1f} s" + (f" ({v[0]:.1f}-{v[-1]:.1f})" if len(v) > 1 else ""), sys.argv[1])' \
    "$peak" "${walls[@]}"
}

compiled_defines=(-DTYPENET_COMPILED_KERNELS -DTYPENET_COMPILED_IO -DTYPENET_COMPILED_VISION)
if ((compiled)); then
  # `--only empty` (nn.hpp alone, CTest's case) needs the kernels only.
  libraries=(kernels io vision)
  [[ $only == empty ]] && libraries=(kernels)
  for library in "${libraries[@]}"; do
    start=$(date +%s.%N)
    "$cxx" "${common[@]}" "${compiled_defines[@]}" -c "$root/src/$library.cpp" -o "$work/$library"
    end=$(date +%s.%N)
    printf 'src/%s.cpp compiled once in %.1f s\n' "$library" "$(echo "$end - $start" | bc)"
  done
  ar rcs "$work/libtypenet_compiled.a" "${libraries[@]/#/$work/}"
  echo
fi

echo "median of $repeat compilation(s) per cell; host: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores," \
  "$(grep -q avx512f /proc/cpuinfo && echo AVX-512 || echo AVX2); $("$cxx" --version | head -1);" \
  "commit $(git rev-parse --short HEAD)"
echo
if ((compiled)); then
  echo '| case | header-only wall | peak | compiled libraries wall | peak |'
  echo '|---|---|---|---|---|'
else
  echo '| case | header-only wall | peak |'
  echo '|---|---|---|'
fi
for name in empty trainer resnet34 resnet34_any_size classify_folder; do
  [[ -n $only && $only != "$name" ]] && continue
  header_only=$(time_median "$name" 0)
  if ((compiled)); then
    libs_time=$(time_median "$name" 1)
    echo "| $name | ${header_only% *} | ${header_only##* } MB | ${libs_time% *} | ${libs_time##* } MB |"
  else
    echo "| $name | ${header_only% *} | ${header_only##* } MB |"
  fi
done
