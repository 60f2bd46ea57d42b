# SPDX-License-Identifier: Apache-2.0
# Installation: headers, the shared library, lox.pc, the CMake package
# (find_package(lox CONFIG) -> lox::lox) and the licence.
include(CMakePackageConfigHelpers)

# What a consumer needs besides liblox itself. A shared liblox resolves fmt,
# spdlog, the C++ runtime and threads on its own (DT_NEEDED): none of them may
# reach a consumer's flags (lox.pc) or the exported lox::lox target, or an
# application would need their -dev packages and get their compile
# definitions. Only a static liblox would pass them on.
get_target_property(lox_type lox TYPE)
if(lox_type STREQUAL "STATIC_LIBRARY")
  set(LOX_PC_PRIVATE "Requires.private: fmt spdlog\nLibs.private: -lstdc++ -lm -pthread")
  set(LOX_CONFIG_DEPENDENCIES "include(CMakeFindDependencyMacro)
find_dependency(Threads)
find_dependency(fmt)
find_dependency(spdlog)")
else()
  set(LOX_PC_PRIVATE "")
  set(LOX_CONFIG_DEPENDENCIES "")
endif()

install(DIRECTORY include/lox DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h" PATTERN "*.hpp")

install(TARGETS lox EXPORT lox-targets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

set(LOX_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/lox)
install(EXPORT lox-targets NAMESPACE lox:: DESTINATION ${LOX_CMAKE_DIR})
configure_package_config_file(cmake/lox-config.cmake.in
  ${PROJECT_BINARY_DIR}/lox-config.cmake INSTALL_DESTINATION ${LOX_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/lox-config-version.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/lox-config.cmake
              ${PROJECT_BINARY_DIR}/lox-config-version.cmake
        DESTINATION ${LOX_CMAKE_DIR})

# pkg-config: relocatable. The prefix is derived from the .pc file's own
# location (${pcfiledir}), so `cmake --install build --prefix X` after
# configuring with another prefix still yields a working lox.pc.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(LOX_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH lox_pc_up "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
  string(REGEX REPLACE "/$" "" lox_pc_up "${lox_pc_up}")
  set(LOX_PC_PREFIX "\${pcfiledir}/${lox_pc_up}")
endif()
# Absolute paths when the install dirs are absolute.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(LOX_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  set(LOX_PC_LIBDIR "\${exec_prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(LOX_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(LOX_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file(pkgconfig/lox.pc.in ${PROJECT_BINARY_DIR}/lox.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/lox.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The licence (Apache-2.0) in <prefix>/share/doc/lox/.
install(FILES LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR})
