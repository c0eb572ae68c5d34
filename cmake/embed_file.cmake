# Writes OUT, a C file holding the bytes of IN as the NUL-terminated array VAR
# and its length VAR_len (the NUL not counted). Run by CMakeLists.txt at build
# time for the shipped classifier corpus (data/corpus/).
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" n)
math(EXPR n "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," arr "${hex}")
file(WRITE ${OUT} "/* Generated from ${IN} by cmake/embed_file.cmake; do not edit. */\n#include <stddef.h>\nconst char ${VAR}[] = {${arr}0};\nconst size_t ${VAR}_len = ${n};\n")
