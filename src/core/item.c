/* item.c - vocabularies, labels, legal terms and tracking codes of items. */
#include "core/item.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const vt_item_kinds[] = {"pqrsd", "hearing_question", "survey_response", NULL};
const char *const vt_item_types[] = {"peticion", "queja",        "reclamo", "sugerencia",
                                     "denuncia", "felicitacion", NULL};
const char *const vt_item_classes[] = {"general", "documentos", "consulta", NULL};
const char *const vt_item_person_types[] = {"natural", "juridica", "nna", "anonimo", NULL};
const char *const vt_item_id_types[] = {"CC", "CE", "TI", "RC", "PA", "NIT", "PPT", "PEP", NULL};
const char *const vt_item_reply_channels[] = {"email", "whatsapp", "postal", "web", NULL};

const char *vt_item_enum(const char *const *list, const char *s)
{
    for (; s && *list; list++)
        if (strcmp(*list, s) == 0)
            return *list;
    return NULL;
}

static const struct {
    const char *code, *label;
} labels[] = {
    {"pqrsd", "PQRSD"},
    {"hearing_question", "Pregunta para audiencia pública"},
    {"survey_response", "Respuesta de encuesta"},
    {"peticion", "Petición"},
    {"queja", "Queja"},
    {"reclamo", "Reclamo"},
    {"sugerencia", "Sugerencia"},
    {"denuncia", "Denuncia"},
    {"felicitacion", "Felicitación"},
    {"general", "Interés general o particular"},
    {"documentos", "Documentos e información"},
    {"consulta", "Consulta"},
    {"natural", "Persona natural"},
    {"juridica", "Persona jurídica"},
    {"nna", "Niña, niño o adolescente"},
    {"anonimo", "Anónimo"},
    {"radicado", "Radicada"},
    {"en_tramite", "En trámite"},
    {"pendiente_completar", "Esperando que el ciudadano complete la solicitud"},
    {"respondido", "Respondida"},
    {"cerrado", "Cerrada"},
    {"desistido", "Archivada por desistimiento"},
    {"trasladado", "Trasladada a otra entidad"},
    {"email", "Correo electrónico"},
    {"whatsapp", "WhatsApp"},
    {"postal", "Correo postal"},
    {"web", "Página web"},
};

const char *vt_item_label(const char *code)
{
    for (size_t i = 0; code && i < sizeof(labels) / sizeof(labels[0]); i++)
        if (strcmp(labels[i].code, code) == 0)
            return labels[i].label;
    return code ? code : "";
}

struct vt_item *vt_item_new(void)
{
    struct vt_item *it = calloc(1, sizeof(*it));
    if (it)
        it->term_days = -1;
    return it;
}

void vt_item_free(struct vt_item *it)
{
    if (!it)
        return;
    free(it->subject);
    free(it->body);
    free(it->classifier);
    free(it->route_payload);
    struct vt_requester *r = &it->req;
    free(r->name);
    free(r->id_type);
    free(r->id_number);
    free(r->email);
    free(r->phone);
    free(r->address);
    free(r->municipality);
    free(r->characterization);
    for (size_t i = 0; i < it->n_att; i++)
        free(it->att[i].filename);
    free(it->att);
    sodium_memzero(it->tracking_code, sizeof(it->tracking_code));
    free(it);
}

int vt_item_term_days(const struct vt_config *cfg, const char *kind, const char *type,
                      const char *petition_class)
{
    if (kind && strcmp(kind, "hearing_question") == 0)
        return cfg->terms[VT_TERM_HEARING_QUESTION];
    if (!kind || strcmp(kind, "pqrsd") != 0 || !type)
        return -1;
    if (strcmp(type, "peticion") == 0) {
        if (petition_class && strcmp(petition_class, "documentos") == 0)
            return cfg->terms[VT_TERM_PETICION_DOCUMENTOS];
        if (petition_class && strcmp(petition_class, "consulta") == 0)
            return cfg->terms[VT_TERM_PETICION_CONSULTA];
        return cfg->terms[VT_TERM_PETICION_GENERAL];
    }
    if (strcmp(type, "queja") == 0)
        return cfg->terms[VT_TERM_QUEJA];
    if (strcmp(type, "reclamo") == 0)
        return cfg->terms[VT_TERM_RECLAMO];
    if (strcmp(type, "sugerencia") == 0)
        return cfg->terms[VT_TERM_SUGERENCIA];
    if (strcmp(type, "denuncia") == 0)
        return cfg->terms[VT_TERM_DENUNCIA];
    return -1; /* felicitacion: no term */
}

void vt_item_stamp(const struct vt_config *cfg, struct vt_item *it)
{
    vt_date_t filed = vt_calendar_filed_date(&cfg->calendar, it->received_at);
    vt_date_format(filed, it->filed_date);
    it->due_date[0] = '\0';
    if (it->term_days >= 0)
        vt_date_format(vt_calendar_due_date(&cfg->calendar, it->received_at, it->term_days),
                       it->due_date);
    it->radicado[0] = '\0';
    if (it->seq > 0) {
        const char *p = cfg->radicado_prefix;
        snprintf(it->radicado, sizeof(it->radicado), "%s%s%04d-%0*lld", p, *p ? "-" : "", it->year,
                 cfg->radicado_digits, (long long)it->seq);
    }
}

/* No 0/O, 1/I/L, so a code read aloud or copied by hand survives. Ten
 * characters of these 31 symbols give about 49 bits. */
static const char alphabet[] = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";

void vt_item_new_tracking_code(struct vt_item *it)
{
    /* The random bytes in one call (each randombytes_uniform is a system
     * call of its own); a byte counts only below the largest multiple of the
     * alphabet's size, so that every character is equally likely. */
    const unsigned n = sizeof(alphabet) - 1, limit = 256 - 256 % n;
    unsigned char r[32];
    size_t used = sizeof(r);
    for (int i = 0; i < 10;) {
        if (used == sizeof(r)) {
            randombytes_buf(r, sizeof(r));
            used = 0;
        }
        unsigned b = r[used++];
        if (b < limit)
            it->tracking_code[i++] = alphabet[b % n];
    }
    sodium_memzero(r, sizeof(r));
    it->tracking_code[10] = '\0';
    vt_item_tracking_hash(it->tracking_code, it->tracking_hash);
}

void vt_item_tracking_hash(const char *code, unsigned char out[32])
{
    char norm[64];
    size_t n = 0;
    for (const char *p = code; *p && n < sizeof(norm) - 1; p++) {
        if (*p == ' ' || *p == '-')
            continue;
        norm[n++] = (char)toupper((unsigned char)*p);
    }
    crypto_generichash(out, 32, (const unsigned char *)norm, n, NULL, 0);
}
