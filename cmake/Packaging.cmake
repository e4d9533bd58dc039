# Debian package of foggate: install() rules and CPack (DEB) settings.
# scripts/package.sh amd64|arm64 builds it; docs/packaging.md says what it
# installs and why. Only the foggate binary, its man page and docs are
# installed: tests, benchmarks, the simulator and the fuzz targets stay in
# the build tree.
set(FOGGATE_PACKAGING_DIR ${PROJECT_SOURCE_DIR}/gateway/packaging)
# The unit runs /usr/bin/foggate, so /usr is the one prefix that fits.
if(CMAKE_INSTALL_PREFIX_INITIALIZED_TO_DEFAULT)
  set(CMAKE_INSTALL_PREFIX /usr CACHE PATH "Install prefix" FORCE)
endif()

install(TARGETS foggate RUNTIME DESTINATION bin)
# Absolute destinations: these live outside the /usr prefix.
install(FILES ${FOGGATE_PACKAGING_DIR}/foggate.json DESTINATION /etc/foggate)
install(FILES ${FOGGATE_PACKAGING_DIR}/foggate.service DESTINATION /lib/systemd/system)
# copyright names the licence, Apache-2.0, whose text Debian keeps once for
# every package in /usr/share/common-licenses/Apache-2.0: LICENSE would be a
# second copy (Debian policy 12.5; lintian's extra-license-file), so it is
# not installed.
install(FILES README.md ${FOGGATE_PACKAGING_DIR}/copyright DESTINATION share/doc/foggate)
# docs/ keeps its name so the README's links resolve.
file(GLOB FOGGATE_DOCS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES ${FOGGATE_DOCS} DESTINATION share/doc/foggate/docs)

# foggate(1): docs/man/foggate.1.scd (scdoc(5)), rendered with scdoc and
# gzipped (-n: no name or time stamp in the file) when the files are
# installed, i.e. by cpack. Only the package needs scdoc, so a build of the
# binary or the tests does not; installing without it stops with the
# message below. The page's date is SOURCE_DATE_EPOCH when set, else today.
find_program(FOGGATE_SCDOC scdoc)
if(NOT FOGGATE_SCDOC)
  message(STATUS "scdoc not found: the man page, and so the package, need it (apt-get install scdoc)")
endif()
set(FOGGATE_MAN_DIR ${PROJECT_BINARY_DIR}/man)
# configure_file: the version in the page's footer; an edit of the source
# re-runs the configuration, which copies it again.
configure_file(${PROJECT_SOURCE_DIR}/docs/man/foggate.1.scd ${FOGGATE_MAN_DIR}/foggate.1.scd @ONLY)
install(CODE "
  set(scdoc \"${FOGGATE_SCDOC}\")
  if(NOT EXISTS \"\${scdoc}\")  # installed or removed since the configuration?
    find_program(FOGGATE_SCDOC_AT_INSTALL scdoc)
    set(scdoc \"\${FOGGATE_SCDOC_AT_INSTALL}\")
  endif()
  if(NOT EXISTS \"\${scdoc}\")
    message(FATAL_ERROR \"the foggate(1) man page needs scdoc: apt-get install scdoc\")
  endif()
  execute_process(COMMAND \${scdoc} INPUT_FILE ${FOGGATE_MAN_DIR}/foggate.1.scd
                  OUTPUT_FILE ${FOGGATE_MAN_DIR}/foggate.1 COMMAND_ERROR_IS_FATAL ANY)
  execute_process(COMMAND gzip -9n -c INPUT_FILE ${FOGGATE_MAN_DIR}/foggate.1
                  OUTPUT_FILE ${FOGGATE_MAN_DIR}/foggate.1.gz COMMAND_ERROR_IS_FATAL ANY)
")
install(FILES ${FOGGATE_MAN_DIR}/foggate.1.gz DESTINATION share/man/man1)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME foggate)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "foggate maintainers <maintainers@users.noreply.h-seed-9f0c72ee.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "IoT edge gateway: MQTT/CoAP ingest, local detection, store-and-forward uplink")
set(CPACK_PACKAGE_DESCRIPTION
  "foggate ingests sensor readings over MQTT and CoAP, classifies them by rules\n\
into prioritized tasks, raises alerts from local detectors and forwards the\n\
rest to a cloud broker in compressed batches held in an SQLite spool.")
# The /etc and /lib paths above are absolute: install everything under the
# staging directory (DESTDIR, with CMAKE_INSTALL_PREFIX) instead of the build
# machine's root.
set(CPACK_SET_DESTDIR ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # foggate_<version>-<release>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# scripts/package.sh passes the target architecture; a native build asks dpkg.
if(FOGGATE_DEB_ARCH)
  set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${FOGGATE_DEB_ARCH})
endif()
# Library dependencies come from dpkg-shlibdeps, which reads the installed
# libraries' shlibs/symbols files. That works for the arm64 cross build too:
# scripts/cross-deps.sh installs the arm64 libraries through multiarch, so
# dpkg knows libpaho-mqttpp3-1:arm64 and friends. postinst needs adduser.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "mosquitto")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${FOGGATE_PACKAGING_DIR}/conffiles
  ${FOGGATE_PACKAGING_DIR}/postinst
  ${FOGGATE_PACKAGING_DIR}/prerm
  ${FOGGATE_PACKAGING_DIR}/postrm)
# 0644 for conffiles, 0755 for the scripts, whatever the checkout's modes.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
