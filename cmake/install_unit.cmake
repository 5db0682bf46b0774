# Run by `cmake --install`: write tagd.service naming the binary where it is
# being installed (the prefix is known only now: --prefix may override it).
file(READ "${TAGD_UNIT_IN}" unit)
string(REPLACE "@TAGD_INSTALL_BIN@" "${CMAKE_INSTALL_PREFIX}/${TAGD_BINDIR}/tagd" unit "${unit}")
file(WRITE "${TAGD_UNIT_OUT}" "${unit}")
