// netpen's entry point: parse the command line, dispatch to a run or a
// subcommand, and map every outcome to an exit status.
#include <cstdio>

int main() {
  std::puts("netpen " NETPEN_VERSION);
  return 0;
}
