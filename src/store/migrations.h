/* migrations.h - the schema files of migrations/, compiled into the binary in
 * version order (cmake/embed_migrations.cmake). Ends with {0, NULL, NULL}. */
#ifndef VT_MIGRATIONS_H
#define VT_MIGRATIONS_H

struct vt_migration {
    int version;
    const char *name;
    const char *sql;
};

extern const struct vt_migration vt_migrations[];

#endif
