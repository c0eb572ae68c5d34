# Writes OUT, a C file holding every DIR/NNNN_name.sql as a string, in order,
# in the table named VAR (vt_migrations for migrations/, SQLite's;
# vt_migrations_pg for migrations/postgresql/). Run by CMakeLists.txt at
# build time.
file(GLOB files ${DIR}/*.sql)
list(SORT files)
set(body "/* Generated from ${DIR} by cmake/embed_migrations.cmake; do not edit. */\n#include <stddef.h>\n#include \"store/migrations.h\"\n")
set(table "")
set(i 0)
foreach(f ${files})
  get_filename_component(name ${f} NAME)
  string(REGEX MATCH "^([0-9]+)_" m "${name}")
  if(NOT m)
    message(FATAL_ERROR "migration ${name} does not start with NNNN_")
  endif()
  math(EXPR version "${CMAKE_MATCH_1}")
  file(READ ${f} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," arr "${hex}")
  string(APPEND body "static const char sql_${i}[] = {${arr}0};\n")
  string(APPEND table "    {${version}, \"${name}\", sql_${i}},\n")
  math(EXPR i "${i} + 1")
endforeach()
string(APPEND body "const struct vt_migration ${VAR}[] = {\n${table}    {0, NULL, NULL}};\n")
file(WRITE ${OUT} "${body}")
