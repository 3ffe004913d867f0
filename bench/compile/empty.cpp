// The compile-time floor: a program that includes typenet's nn component and
// does nothing (bench/compile_time.sh times it).
#include TYPENET_BENCH_HEADER

int main() {
  return 0;
}
