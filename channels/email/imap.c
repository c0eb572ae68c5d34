/* imap.c - IMAP over libcurl for the email poller (imap.h). */
#include "channels/email/imap.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/error.h"

struct vt_imap {
    CURL *curl;
    char base[512];    /* scheme://authority */
    char mailbox[256]; /* as in the URL path */
    char *user, *password;
    char *ca_file; /* "" for the system's CA store */
    bool plain;
    int timeout_ms;
};

struct sink {
    struct vt_buf b;
    size_t max;
    bool too_big;
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    struct sink *s = ud;
    size_t len = size * n;
    if (s->b.len + len > s->max) {
        s->too_big = true;
        return 0;
    }
    return vt_buf_append(&s->b, p, len) == 0 ? len : 0;
}

bool vt_url_is_loopback(const char *url)
{
    const char *h = strstr(url, "://");
    if (!h)
        return false;
    h += 3;
    const char *at = strchr(h, '@'), *slash = strchr(h, '/');
    if (at && (!slash || at < slash))
        h = at + 1;
    return strncmp(h, "127.", 4) == 0 || strncmp(h, "[::1]", 5) == 0 ||
           strncasecmp(h, "localhost", 9) == 0;
}

struct vt_imap *vt_imap_new(const char *url, const char *user, const char *password,
                            bool allow_plain, const char *ca_file, int timeout_ms)
{
    struct vt_imap *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    const char *auth = strstr(url, "://");
    const char *path = auth ? strchr(auth + 3, '/') : NULL;
    size_t blen = path ? (size_t)(path - url) : strlen(url);
    if (blen >= sizeof(c->base))
        goto fail;
    memcpy(c->base, url, blen);
    c->base[blen] = '\0';
    snprintf(c->mailbox, sizeof(c->mailbox), "%s", path && path[1] ? path + 1 : "INBOX");
    c->plain = allow_plain && strncmp(url, "imap://", 7) == 0 && vt_url_is_loopback(url);
    c->timeout_ms = timeout_ms;
    if (!(c->user = strdup(user)) || !(c->password = strdup(password)) ||
        !(c->ca_file = strdup(ca_file ? ca_file : "")) || !(c->curl = curl_easy_init()))
        goto fail;
    return c;
fail:
    vt_imap_free(c);
    return NULL;
}

void vt_imap_free(struct vt_imap *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    free(c->user);
    free(c->ca_file);
    if (c->password) {
        memset(c->password, 0, strlen(c->password));
        free(c->password);
    }
    free(c);
}

/* One request: url relative to base ("" for the server, "/INBOX..." for a
 * mailbox), an optional custom command. The response lands in s. */
static int perform_on(struct vt_imap *c, const char *path, const char *command, struct sink *s,
                      bool fresh, char *why, size_t whylen);

static int perform(struct vt_imap *c, const char *path, const char *command, struct sink *s,
                   char *why, size_t whylen)
{
    return perform_on(c, path, command, s, false, why, whylen);
}

/* fresh: a new connection. A session that kept a mailbox selected while the
 * server renumbered it (a UIDVALIDITY change) goes on seeing the old one. */
static int perform_on(struct vt_imap *c, const char *path, const char *command, struct sink *s,
                      bool fresh, char *why, size_t whylen)
{
    char url[1024];
    snprintf(url, sizeof(url), "%s%s", c->base, path);
    CURL *h = c->curl;
    /* Options are set anew each time; the connection (and login) is reused. */
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_USERNAME, c->user);
    curl_easy_setopt(h, CURLOPT_PASSWORD, c->password);
    curl_easy_setopt(h, CURLOPT_USE_SSL, c->plain ? (long)CURLUSESSL_NONE : (long)CURLUSESSL_ALL);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, c->plain ? "imap,imaps" : "imaps,imap");
    if (c->ca_file[0])
        curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, command);
    curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, fresh ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
    CURLcode cc = curl_easy_perform(h);
    if (cc == CURLE_WRITE_ERROR && s->too_big) {
        snprintf(why, whylen, "message larger than %zu bytes", s->max);
        return VT_ETOOBIG;
    }
    if (cc != CURLE_OK) {
        snprintf(why, whylen, "imap: %s", curl_easy_strerror(cc));
        return VT_EIO;
    }
    return 0;
}

int vt_imap_status(struct vt_imap *c, int64_t *uidvalidity, int64_t *uidnext, char *why,
                   size_t whylen)
{
    /* STATUS, not EXAMINE: it leaves the selected mailbox (and its
     * read-write state, needed by STORE) alone. */
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "STATUS \"%s\" (UIDVALIDITY UIDNEXT)", c->mailbox);
    struct sink s = {.max = 1 << 20};
    int rc = perform_on(c, "/", cmd, &s, true, why, whylen); /* each round on a new session */
    *uidvalidity = 0;
    if (rc == 0) {
        const char *p = s.b.data ? strcasestr(s.b.data, "UIDVALIDITY ") : NULL;
        if (p)
            *uidvalidity = strtoll(p + 12, NULL, 10);
        const char *q = s.b.data ? strcasestr(s.b.data, "UIDNEXT ") : NULL;
        *uidnext = q ? strtoll(q + 8, NULL, 10) : 0;
        if (*uidvalidity <= 0) {
            snprintf(why, whylen, "imap: no UIDVALIDITY for %s", c->mailbox);
            rc = VT_EIO;
        }
    }
    vt_buf_cleanup(&s.b);
    return rc;
}

int vt_imap_uids_after(struct vt_imap *c, int64_t after, int64_t upto, int64_t **uids, size_t *n,
                       char *why, size_t whylen)
{
    char cmd[100], path[300];
    if (upto > after)
        snprintf(cmd, sizeof(cmd), "UID SEARCH UID %lld:%lld", (long long)after + 1,
                 (long long)upto);
    else
        snprintf(cmd, sizeof(cmd), "UID SEARCH UID %lld:*", (long long)after + 1);
    snprintf(path, sizeof(path), "/%s", c->mailbox);
    struct sink s = {.max = 64 << 20};
    *uids = NULL;
    *n = 0;
    int rc = perform(c, path, cmd, &s, why, whylen);
    if (rc == 0 && s.b.data) {
        size_t cap = 0;
        for (char *line = s.b.data; line && *line;) {
            char *eol = strchr(line, '\n');
            if (strncasecmp(line, "* SEARCH", 8) == 0) {
                char *p = line + 8;
                while (p && *p && *p != '\r' && *p != '\n') {
                    while (*p == ' ')
                        p++;
                    if (!isdigit((unsigned char)*p))
                        break;
                    long long u = strtoll(p, &p, 10);
                    /* "N:*" also matches the highest UID when it is below N. */
                    if (u <= after || (upto > after && u > upto))
                        continue;
                    if (*n == cap) {
                        cap = cap ? cap * 2 : 64;
                        int64_t *g = realloc(*uids, cap * sizeof(*g));
                        if (!g) {
                            rc = VT_ENOMEM;
                            break;
                        }
                        *uids = g;
                    }
                    (*uids)[(*n)++] = u;
                }
            }
            line = eol ? eol + 1 : NULL;
        }
    }
    vt_buf_cleanup(&s.b);
    /* Ascending, so the last committed UID always moves forward. */
    for (size_t i = 1; rc == 0 && i < *n; i++)
        for (size_t j = i; j > 0 && (*uids)[j - 1] > (*uids)[j]; j--) {
            int64_t t = (*uids)[j];
            (*uids)[j] = (*uids)[j - 1];
            (*uids)[j - 1] = t;
        }
    if (rc) {
        free(*uids);
        *uids = NULL;
        *n = 0;
    }
    return rc;
}

int vt_imap_fetch(struct vt_imap *c, int64_t uid, size_t max, char **raw, size_t *len, char *why,
                  size_t whylen)
{
    char path[400];
    snprintf(path, sizeof(path), "/%s/;UID=%lld", c->mailbox, (long long)uid);
    struct sink s = {.max = max};
    *raw = NULL;
    *len = 0;
    int rc = perform(c, path, NULL, &s, why, whylen);
    if (rc == 0) {
        *len = s.b.len;
        *raw = vt_buf_steal(&s.b, NULL);
        if (!*raw && !(*raw = calloc(1, 1)))
            rc = VT_ENOMEM;
    }
    vt_buf_cleanup(&s.b);
    return rc;
}

int vt_imap_mark_seen(struct vt_imap *c, int64_t uid, char *why, size_t whylen)
{
    char cmd[100], path[300];
    snprintf(cmd, sizeof(cmd), "UID STORE %lld +FLAGS.SILENT (\\Seen)", (long long)uid);
    snprintf(path, sizeof(path), "/%s", c->mailbox);
    struct sink s = {.max = 1 << 20};
    int rc = perform(c, path, cmd, &s, why, whylen);
    vt_buf_cleanup(&s.b);
    return rc;
}

int vt_imap_move(struct vt_imap *c, int64_t uid, const char *folder, char *why, size_t whylen)
{
    char cmd[400], path[300];
    snprintf(path, sizeof(path), "/%s", c->mailbox);
    snprintf(cmd, sizeof(cmd), "UID MOVE %lld \"%s\"", (long long)uid, folder);
    struct sink s = {.max = 1 << 20};
    int rc = perform(c, path, cmd, &s, why, whylen);
    if (rc) {
        /* Servers without MOVE (RFC 6851): copy, flag, expunge that UID. */
        s.b.len = 0;
        snprintf(cmd, sizeof(cmd), "UID COPY %lld \"%s\"", (long long)uid, folder);
        rc = perform(c, path, cmd, &s, why, whylen);
        snprintf(cmd, sizeof(cmd), "UID STORE %lld +FLAGS.SILENT (\\Deleted)", (long long)uid);
        if (rc == 0)
            rc = perform(c, path, cmd, &s, why, whylen);
        snprintf(cmd, sizeof(cmd), "UID EXPUNGE %lld", (long long)uid);
        if (rc == 0)
            rc = perform(c, path, cmd, &s, why, whylen);
    }
    vt_buf_cleanup(&s.b);
    return rc;
}
