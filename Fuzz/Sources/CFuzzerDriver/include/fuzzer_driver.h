#ifndef TUTOR_FUZZER_DRIVER_H
#define TUTOR_FUZZER_DRIVER_H
#include <stddef.h>
#include <stdint.h>

/* Runs libFuzzer with its command-line flags (argc, argv as given to main) on
   `test_one_input`, and returns the exit status. SwiftPM gives every executable target its
   own main, so the harnesses start libFuzzer through its LLVMFuzzerRunDriver entry
   (LLVM >= 12) instead of relying on libFuzzer's main. */
int tutor_run_fuzzer(int argc, char **argv, int (*test_one_input)(const uint8_t *data, size_t size));

#endif
