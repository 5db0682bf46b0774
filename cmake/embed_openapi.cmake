# Writes OUT (a C file) holding the bytes of IN (openapi/tagd.json) as the
# array declared in include/openapi_doc.h, after checking that IN is a JSON
# object with an "openapi" member: a broken document fails the build, not a
# request.
# Run as: cmake -DIN=... -DOUT=... -P embed_openapi.cmake
file(READ "${IN}" text)
string(JSON version ERROR_VARIABLE json_error GET "${text}" openapi)
if(json_error)
  message(FATAL_ERROR "${IN} is not an OpenAPI document: ${json_error}")
endif()
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" hex_len)
math(EXPR size "${hex_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){16})" "\\1\n\t" bytes "${bytes}")
set(body "/* Generated from openapi/tagd.json by cmake/embed_openapi.cmake; do not edit. */\n")
string(APPEND body "#include \"openapi_doc.h\"\n\n")
string(APPEND body "const unsigned char openapi_doc[] = {\n\t${bytes}\n};\n\n")
string(APPEND body "const size_t openapi_doc_len = ${size};\n")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
  if(old STREQUAL body)
    return()
  endif()
endif()
file(WRITE "${OUT}" "${body}")
