/* migrations.h - the schema files of migrations/ (and their PostgreSQL twins
 * in migrations/postgresql/), compiled into the binary in version order
 * (cmake/embed_migrations.cmake). Each table ends with {0, NULL, NULL}. */
#ifndef VT_MIGRATIONS_H
#define VT_MIGRATIONS_H

struct vt_migration {
    int version;
    const char *name;
    const char *sql;
};

extern const struct vt_migration vt_migrations[];    /* SQLite's (migrations/) */
extern const struct vt_migration vt_migrations_pg[]; /* PostgreSQL's (migrations/postgresql/) */

#endif
