# Writes OUT, a C file holding every file of DIR and of its folders one level
# down (DIR/staff.html, DIR/staff/main.js) as a byte array, and a table
# vt_web_assets[] of {name, data, size}, the name relative to DIR
# ("staff.html", "staff/main.js"). Run by CMakeLists.txt at build time.
# Hidden files (an editor's) are left out; any other name must be letters,
# digits, '.', '_' and '-' with at most one '/', so that it is a plain C string
# and a plain URL path.
file(GLOB files LIST_DIRECTORIES false RELATIVE ${DIR} ${DIR}/* ${DIR}/*/*)
list(SORT files)
set(body "/* Generated from web/ by cmake/embed_assets.cmake; do not edit. */\n#include <stddef.h>\n#include \"core/web_assets.h\"\n")
set(table "")
set(i 0)
foreach(name ${files})
  if(name MATCHES "(^|/)\\.")
    continue()
  endif()
  if(NOT name MATCHES "^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)?$")
    message(FATAL_ERROR "web/${name}: an asset's name is letters, digits, '.', '_' and '-'")
  endif()
  file(READ ${DIR}/${name} hex HEX)
  string(LENGTH "${hex}" hexlen)
  math(EXPR size "${hexlen} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," arr "${hex}")
  string(APPEND body "static const unsigned char asset_${i}[] = {${arr}0};\n")
  string(APPEND table "    {\"${name}\", asset_${i}, ${size}},\n")
  math(EXPR i "${i} + 1")
endforeach()
string(APPEND body "const struct vt_web_asset vt_web_assets[] = {\n${table}    {NULL, NULL, 0}};\n")
file(WRITE ${OUT} "${body}")
