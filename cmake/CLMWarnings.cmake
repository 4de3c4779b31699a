option(CLM_WERROR "Treat warnings as errors" OFF)
add_library(clm_warnings INTERFACE)
target_compile_options(clm_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
  -Wold-style-definition -Wformat=2 -Wvla -Wwrite-strings -Wundef
  -Wpointer-arith -Wimplicit-fallthrough -Werror=implicit-function-declaration
  $<$<C_COMPILER_ID:GNU>:-Wduplicated-cond -Wlogical-op>
  $<$<BOOL:${CLM_WERROR}>:-Werror>)
