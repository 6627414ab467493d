// The command line every build-time generator in tools/ shares: one
// argument, the C++ source to write. open_generated_source prints the usage
// or the error and returns nullptr when the file cannot be written.
#pragma once

#include <cstdio>

inline std::FILE* open_generated_source(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT.cpp\n", argv[0]);
    return nullptr;
  }
  std::FILE* out = std::fopen(argv[1], "w");
  if (out == nullptr) std::perror(argv[1]);
  return out;
}
