# Installation: headers, the shared library, lox.pc and the CMake package
# (find_package(lox CONFIG) -> lox::lox).
include(CMakePackageConfigHelpers)

install(DIRECTORY include/lox DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h" PATTERN "*.hpp")

install(TARGETS lox EXPORT lox-targets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

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
