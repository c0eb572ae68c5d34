/* dependencias.c - the entity's offices (dependencias.h). */
#include "domain/dependencias.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/error.h"
#include "store/db.h"

static const char SQL_LIST[] = "SELECT code, name, active FROM dependencias ORDER BY name";

int vt_dependencias_list(struct vt_store_reader *r,
                         void (*each)(void *ctx, const char *code, const char *name, bool active),
                         void *ctx)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(r), SQL_LIST);
    if (!st)
        return VT_ESTORE;
    int s;
    while ((s = vt_db_step(st)) == VT_DB_ROW)
        each(ctx, vt_db_col_str(st, 0), vt_db_col_str(st, 1), vt_db_col_int(st, 2) != 0);
    vt_db_reset(st);
    return s == VT_DB_DONE ? 0 : VT_ESTORE;
}

static const char SQL_NAME[] = "SELECT name FROM dependencias WHERE code = ?1";

void vt_dependencias_name(struct vt_store_reader *r, const char *code, char *out, size_t cap)
{
    snprintf(out, cap, "%s", code);
    struct vt_db_stmt *st = vt_db_prepare(vt_store_reader_db(r), SQL_NAME);
    if (!st)
        return;
    vt_db_bind_text(st, 1, code);
    if (vt_db_step(st) == VT_DB_ROW && !vt_db_col_null(st, 0))
        vt_db_col_copy(st, 0, out, cap);
    vt_db_reset(st);
}

static const char SQL_ACTIVE[] = "SELECT 1 FROM dependencias WHERE code = ?1 AND active = 1";

int vt_dependencias_active(struct vt_store_tx *tx, const char *code, bool *active)
{
    *active = false;
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_ACTIVE);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, code);
    int s = vt_db_step(st);
    vt_db_reset(st);
    *active = s == VT_DB_ROW;
    return s < 0 ? s : 0;
}

static const char SQL_SAVE[] =
    "INSERT INTO dependencias (code, name, active, created_at, updated_at) "
    "VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (code) DO UPDATE SET name = excluded.name, "
    "active = excluded.active, updated_at = excluded.updated_at";

static int save(struct vt_store_tx *tx, const char *actor, const char *code, const char *name,
                bool active)
{
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_SAVE);
    if (!st)
        return VT_ESTORE;
    vt_db_bind_text(st, 1, code);
    vt_db_bind_text(st, 2, name);
    vt_db_bind_int(st, 3, active);
    vt_db_bind_int(st, 4, vt_store_tx_now(tx));
    if (vt_db_run(st))
        return VT_ESTORE;
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "code", code);
    cJSON_AddStringToObject(p, "name", name);
    cJSON_AddBoolToObject(p, "active", active);
    char *s = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    int rc = s ? vt_store_tx_event(tx, 0, actor, "dependencia_guardada", s, 0) : VT_ENOMEM;
    free(s);
    return rc;
}

int vt_dependencias_save(struct vt_store_tx *tx, const char *username, const char *code,
                         const char *name, bool active)
{
    char actor[80];
    snprintf(actor, sizeof(actor), "staff:%s", username);
    return save(tx, actor, code, name, active);
}

static const char SQL_ANY[] = "SELECT 1 FROM dependencias LIMIT 1";

int vt_dependencias_seed(struct vt_store_tx *tx, const struct vt_config *cfg, size_t *n)
{
    *n = 0;
    struct vt_db_stmt *st = vt_db_prepare(vt_store_tx_db(tx), SQL_ANY);
    if (!st)
        return VT_ESTORE;
    int s = vt_db_step(st);
    vt_db_reset(st);
    if (s != VT_DB_DONE)
        return s == VT_DB_ROW ? 0 : VT_ESTORE; /* not the first start */
    for (size_t i = 0; i < cfg->n_dependencias; i++) {
        int rc = save(tx, "sistema:configuracion", cfg->dependencias[i].code,
                      cfg->dependencias[i].name, true);
        if (rc)
            return rc;
        ++*n;
    }
    return 0;
}
