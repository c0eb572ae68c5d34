/* csv.h - an RFC 4180 CSV reader, for `ventanilla contacts import FILE` (the
 * entity's stakeholder register, usually exported from Excel).
 *
 * Owns: nothing beyond one call; fields live in a scratch buffer that is
 * freed before vt_csv_parse returns.
 * Must not: interpret the fields (the importer does), or log them (they are
 * personal data).
 */
#ifndef VT_CSV_H
#define VT_CSV_H
#include <stddef.h>

#include "core/buf.h"

/* Called once per record. line_no is the 1-based line the record starts on.
 * fields[0..n_fields) are NUL-terminated and unquoted; they are valid for the
 * call only and the callback may modify them. Return 0 to go on, non-zero to
 * stop (vt_csv_parse then returns that value). */
typedef int (*vt_csv_row_fn)(void *ctx, size_t line_no, char **fields, size_t n_fields);

/* Calls row for each record of data[0..len). Handles quoted fields with
 * separators, CRLF or LF inside quotes (kept as is), "" inside quotes as ",
 * CRLF, LF or CR line ends, a UTF-8 BOM at the start and an optional final
 * newline; empty lines are skipped. The separator is ';' when the first
 * record (the header) has ';' and no ',' outside quotes (Excel in Spanish
 * locales), ',' otherwise. Returns 0; the callback's non-zero return;
 * VT_EINVAL on malformed input (unterminated quote, stray quote in a field, a
 * NUL byte) or max_fields 0; VT_ETOOBIG over max_fields fields in a record;
 * VT_ENOMEM. err_line (may be NULL) gets the 1-based line of the problem, or
 * of the record whose callback stopped, and 0 on success. */
int vt_csv_parse(const char *data, size_t len, size_t max_fields, vt_csv_row_fn row, void *ctx,
                 size_t *err_line);

/* Appends s as one CSV field (RFC 4180) to b: quoted when it holds a comma,
 * a quote or a line break, and with a leading apostrophe when it starts like
 * a spreadsheet formula (= + - @, CSV injection). NULL is "". 0 or VT_ENOMEM. */
int vt_csv_field(struct vt_buf *b, const char *s);

#endif
