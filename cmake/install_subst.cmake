# Run by `cmake --install`: write the files that name the binary where it is
# being installed (the prefix is known only now: --prefix may override it) or
# tagd's version.  TAGD_SUBST is a list of input;output pairs; @TAGD_INSTALL_BIN@
# and @TAGD_VERSION@ are replaced.  (Under the old variable-reference rules, the
# default in an install script, "@TAGD_VERSION@" here would itself be expanded.)
cmake_policy(PUSH)
cmake_policy(VERSION 3.25)
list(LENGTH TAGD_SUBST n)
math(EXPR last "${n} - 1")
foreach(i RANGE 0 ${last} 2)
  math(EXPR j "${i} + 1")
  list(GET TAGD_SUBST ${i} in)
  list(GET TAGD_SUBST ${j} out)
  file(READ "${in}" text)
  string(REPLACE "@TAGD_INSTALL_BIN@" "${CMAKE_INSTALL_PREFIX}/${TAGD_BINDIR}/tagd" text "${text}")
  string(REPLACE "@TAGD_VERSION@" "${TAGD_VERSION}" text "${text}")
  file(WRITE "${out}" "${text}")
endforeach()
cmake_policy(POP)
