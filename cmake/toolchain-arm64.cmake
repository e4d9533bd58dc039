# Cross-compiling foggate for arm64 (aarch64) on an amd64 Debian bookworm.
#
# scripts/cross-deps.sh installs g++-aarch64-linux-gnu, qemu-user and the
# arm64 -dev packages through Debian multiarch, into the build machine's own
# /usr (libraries in /usr/lib/aarch64-linux-gnu, headers shared in
# /usr/include). So there is no separate sysroot: Debian's cross compiler
# searches the aarch64-linux-gnu multiarch directories by itself.
#
#   cmake -S . -B build-pkg-arm64 -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-arm64.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
# find_library and find_package look in lib/aarch64-linux-gnu (and lib/),
# never in the amd64 lib/x86_64-linux-gnu.
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# pkg-config (libcoap-3-openssl, OpenSSL) reads only the arm64 .pc files.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
# ctest and gtest_discover_tests run the arm64 test binaries through
# qemu-user. The arm64 loader and libraries are where multiarch put them
# (/lib/ld-linux-aarch64.so.1, /usr/lib/aarch64-linux-gnu), so the library
# prefix is the root; an extracted sysroot would be named here instead.
set(CMAKE_CROSSCOMPILING_EMULATOR /usr/bin/qemu-aarch64 -L /)  # Debian package qemu-user
