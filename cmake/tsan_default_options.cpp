// ThreadSanitizer's defaults in netpen's TSan build (NETPEN_TSAN; linked
// into the executables by netpen_sanitizer_defaults()): the first race
// ends the process with status 66, so a race fails whatever test ran into
// it, even where TSAN_OPTIONS does not reach (an e2e run as another user
// starts with a clean environment). TSAN_OPTIONS still overrides these.
extern "C" const char* __tsan_default_options();
extern "C" const char* __tsan_default_options() { return "halt_on_error=1:exitcode=66:second_deadlock_stack=1"; }
