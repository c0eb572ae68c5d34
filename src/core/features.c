/* features.c - the features of a message for the learned classifier: see
 * features.h for what they are and what never becomes one.
 *
 * Speed (bench/classify): each thread keeps a scratch area of its own (a
 * pthread key, freed when the thread ends): the folded text, the set that
 * drops repeated features (stamped with a generation, so it is never
 * cleared), the Snowball stemmer (made once, not per message) and a
 * direct-mapped cache of word to stem, since the same few thousand words
 * make up nearly every message. Strings are copied with memcpy, not printf.
 */
#include "core/features.h"

#include <libstemmer.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/text.h"

#define TEXT_MAX 8192
#define SET_SIZE 8192 /* power of two; at most SET_SIZE / 2 features a message */
#define MAX_FEATURES (SET_SIZE / 2)
#define WORD_MAX 40 /* longer tokens are not words */
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define CACHE_SIZE 16384 /* power of two: about 0.8 MB a thread */
#define CACHED_MAX 23    /* longer words (rare) are stemmed every time */

/* Spanish words too common to say anything (accents folded), sorted. */
static const char *const stop_words[] = {
    "a",      "al",       "algo",    "algun",  "alguna",      "algunas", "alguno", "algunos",
    "ante",   "antes",    "aqui",    "asi",    "atentamente", "aun",     "aunque", "buenas",
    "buenos", "cada",     "como",    "con",    "contra",      "cordial", "cual",   "cuales",
    "cuando", "cuanto",   "de",      "del",    "desde",       "dias",    "donde",  "dos",
    "e",      "el",       "ella",    "ellas",  "ellos",       "en",      "entre",  "era",
    "eran",   "es",       "esa",     "esas",   "ese",         "eso",     "esos",   "esta",
    "estaba", "estado",   "estamos", "estan",  "estar",       "estas",   "este",   "esto",
    "estos",  "estoy",    "fue",     "fueron", "ha",          "habia",   "han",    "hasta",
    "hay",    "he",       "hola",    "la",     "las",         "le",      "les",    "lo",
    "los",    "mas",      "me",      "mi",     "mis",         "muy",     "ni",     "noches",
    "nos",    "nosotros", "o",       "otra",   "otro",        "otros",   "para",   "pero",
    "poco",   "por",      "porfa",   "porque", "pq",          "q",       "que",    "quien",
    "saludo", "saludos",  "se",      "sea",    "segun",       "senor",   "senora", "senores",
    "ser",    "si",       "sido",    "sobre",  "son",         "su",      "sus",    "tambien",
    "tardes", "te",       "tengo",   "tiene",  "tienen",      "todo",    "todos",  "tu",
    "tus",    "un",       "una",     "unas",   "uno",         "unos",    "usted",  "ustedes",
    "xfa",    "xq",       "y",       "ya",     "yo",
};

/* Common Colombian given names and surnames (folded), sorted: never features,
 * so that no reason shown to staff names a person. Words that are also
 * ordinary words (luz, paz, rosa, torres, ...) are left out on purpose. */
static const char *const names[] = {
    "acosta",     "adriana",   "agudelo",   "aguilar",   "alba",      "alberto",   "alejandra",
    "alejandro",  "alexander", "alfonso",   "alfredo",   "alicia",    "alirio",    "alvarez",
    "alvaro",     "amparo",    "ana",       "anderson",  "andrea",    "andres",    "angela",
    "angelica",   "antonio",   "arango",    "arias",     "armando",   "arturo",    "aurora",
    "beatriz",    "bedoya",    "bermudez",  "bernardo",  "betancur",  "brayan",    "buitrago",
    "bustamante", "cabrera",   "camila",    "cardenas",  "cardona",   "carlos",    "carmen",
    "carolina",   "carvajal",  "castaneda", "castro",    "catalina",  "cecilia",   "cesar",
    "cifuentes",  "claudia",   "cristian",  "cristina",  "cuellar",   "dairo",     "daniel",
    "daniela",    "david",     "deisy",     "diana",     "diaz",      "diego",     "duque",
    "duvan",      "edgar",     "edison",    "eduardo",   "edwin",     "elena",     "eliana",
    "elizabeth",  "emilio",    "enrique",   "ernesto",   "escobar",   "espinosa",  "esteban",
    "estefania",  "estrada",   "fabian",    "fabio",     "felipe",    "fernando",  "florez",
    "francisco",  "franco",    "freddy",    "fredy",     "gabriel",   "gabriela",  "gallego",
    "garcia",     "gaviria",   "gerardo",   "german",    "gil",       "gilberto",  "giraldo",
    "gloria",     "gomez",     "gonzalez",  "gonzalo",   "guerrero",  "gustavo",   "gutierrez",
    "hector",     "helena",    "henao",     "heriberto", "hernan",    "hernandez", "hernando",
    "herrera",    "hoyos",     "humberto",  "ibarra",    "ines",      "isabel",    "ivan",
    "jaime",      "jairo",     "jaramillo", "javier",    "jenny",     "jesus",     "jhon",
    "jhonatan",   "jhony",     "jimenez",   "johana",    "jorge",     "jose",      "josefina",
    "juan",       "julian",    "juliana",   "julio",     "karen",     "kevin",     "laura",
    "leidy",      "leonardo",  "libardo",   "liliana",   "lina",      "londono",   "lopez",
    "lorena",     "lozada",    "lozano",    "lucia",     "luis",      "luisa",     "manuel",
    "marcela",    "marco",     "margarita", "maria",     "mariana",   "marin",     "mario",
    "marta",      "martha",    "martinez",  "mauricio",  "medina",    "mejia",     "mendoza",
    "miguel",     "molina",    "monica",    "montoya",   "morales",   "mosquera",  "munoz",
    "murillo",    "nancy",     "naranjo",   "natalia",   "nelson",    "nestor",    "nicolas",
    "nieto",      "nohora",    "ocampo",    "ochoa",     "olga",      "orlando",   "orozco",
    "ortiz",      "oscar",     "osorio",    "ospina",    "pablo",     "palacios",  "pardo",
    "parra",      "patino",    "patricia",  "paula",     "pedro",     "perez",     "pineda",
    "posada",     "pulido",    "quintero",  "quiroga",   "rafael",    "ramirez",   "ramiro",
    "ramon",      "raul",      "rendon",    "restrepo",  "ricardo",   "rincon",    "rivera",
    "roberto",    "rodrigo",   "rodriguez", "rojas",     "romero",    "rosalba",   "rosario",
    "ruben",      "rueda",     "ruiz",      "salazar",   "salgado",   "sanchez",   "sandra",
    "santiago",   "sara",      "sarmiento", "sebastian", "sepulveda", "sergio",    "serna",
    "sierra",     "silva",     "sofia",     "sonia",     "soto",      "stella",    "suarez",
    "tabares",    "tatiana",   "teresa",    "tobon",     "trujillo",  "uribe",     "valencia",
    "valentina",  "valeria",   "vanessa",   "vargas",    "vasco",     "vasquez",   "velasquez",
    "velez",      "veronica",  "victor",    "villa",     "viviana",   "william",   "wilmer",
    "wilson",     "yamile",    "yaneth",    "yeison",    "yolanda",   "yuliana",   "yurani",
    "zapata",     "zuluaga",
};

/* A thread's scratch area, kept between messages. */
struct scratch {
    struct sb_stemmer *stemmer;
    uint32_t gen;               /* this message's stamp in set_gen */
    uint32_t set_gen[SET_SIZE]; /* a slot is in use when it holds gen */
    uint32_t set_idx[SET_SIZE]; /* index into out->f */
    struct {
        unsigned char wn, sn; /* lengths; wn 0: empty */
        char word[CACHED_MAX], stem[CACHED_MAX];
    } cache[CACHE_SIZE];
    char text[TEXT_MAX * 2 + 2];
};

/* The stop words and names, in one hash table built once: a word is looked
 * up once, not searched in two sorted lists. */
#define WORDS_SIZE 1024 /* power of two, over twice the two lists */
enum { STOP = 1, NAME = 2 };
static struct {
    const char *word;
    uint32_t hash; /* hash_n of word, compared first */
    int kind;
} word_table[WORDS_SIZE];

static uint32_t hash_n(const char *s, size_t n);

static void word_put(const char *w, int kind)
{
    uint32_t h = hash_n(w, strlen(w)), i = h & (WORDS_SIZE - 1);
    while (word_table[i].word && strcmp(word_table[i].word, w) != 0)
        i = (i + 1) & (WORDS_SIZE - 1);
    word_table[i].word = w;
    word_table[i].hash = h;
    word_table[i].kind |= kind;
}

static void word_table_make(void)
{
    for (size_t i = 0; i < N_OF(stop_words); i++)
        word_put(stop_words[i], STOP);
    for (size_t i = 0; i < N_OF(names); i++)
        word_put(names[i], NAME);
}

/* STOP, NAME, both or 0 for word w of n bytes, whose hash_n is h. */
static int word_kind(const char *w, size_t n, uint32_t h)
{
    for (uint32_t i = h & (WORDS_SIZE - 1); word_table[i].word; i = (i + 1) & (WORDS_SIZE - 1))
        if (word_table[i].hash == h && strncmp(word_table[i].word, w, n) == 0 &&
            word_table[i].word[n] == '\0')
            return word_table[i].kind;
    return 0;
}

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static int scratch_key_rc;

static void scratch_free(void *p)
{
    struct scratch *s = p;
    if (s && s->stemmer)
        sb_stemmer_delete(s->stemmer);
    free(s);
}

static void scratch_key_make(void)
{
    word_table_make();
    scratch_key_rc = pthread_key_create(&scratch_key, scratch_free);
}

static struct scratch *scratch_get(void)
{
    if (pthread_once(&scratch_once, scratch_key_make) != 0 || scratch_key_rc != 0)
        return NULL;
    struct scratch *s = pthread_getspecific(scratch_key);
    if (s)
        return s;
    if (!(s = calloc(1, sizeof(*s))))
        return NULL;
    s->stemmer = sb_stemmer_new("spanish", "UTF_8");
    if (pthread_setspecific(scratch_key, s) != 0) {
        scratch_free(s);
        return NULL;
    }
    return s;
}

struct ctx {
    struct vt_features *out;
    struct scratch *sc;
    const struct vt_text_input *in;
    char excluded[16][48]; /* the caller's words, folded */
    uint32_t excluded_hash[16];
    uint64_t excluded_bits; /* bit hash % 64 of each: most words skip the list */
    size_t n_excluded;
    int err;
};

static uint32_t hash_n(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* Copies n bytes of src into dst of cap bytes, cut to fit, NUL-terminated;
 * returns the length written. */
static size_t put(char *dst, size_t cap, const char *src, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return n;
}

/* Adds the feature whose key is the concatenation k1 k2 k3 (shown as s1 s2)
 * unless the message has it already. */
static void add3(struct ctx *c, const char *k1, size_t n1, const char *k2, size_t n2,
                 const char *k3, size_t n3, const char *s1, size_t m1, const char *s2, size_t m2)
{
    struct vt_features *o = c->out;
    if (c->err || o->n >= MAX_FEATURES)
        return;
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 256;
        struct vt_feature *f = realloc(o->f, cap * sizeof(*f));
        if (!f) {
            c->err = VT_ENOMEM;
            return;
        }
        o->f = f;
        o->cap = cap;
    }
    /* The key is written where the feature goes; a repeated one is left
     * there and overwritten by the next. */
    struct vt_feature *f = &o->f[o->n];
    size_t kn = put(f->key, sizeof(f->key), k1, n1);
    kn += put(f->key + kn, sizeof(f->key) - kn, k2, n2);
    kn += put(f->key + kn, sizeof(f->key) - kn, k3, n3);
    struct scratch *sc = c->sc;
    uint32_t h = hash_n(f->key, kn), i = h & (SET_SIZE - 1);
    for (; sc->set_gen[i] == sc->gen; i = (i + 1) & (SET_SIZE - 1))
        if (o->f[sc->set_idx[i]].hash == h && strcmp(o->f[sc->set_idx[i]].key, f->key) == 0)
            return;
    f->hash = h;
    size_t sn = put(f->shown, sizeof(f->shown), s1, m1);
    put(f->shown + sn, sizeof(f->shown) - sn, s2, m2);
    sc->set_gen[i] = sc->gen;
    sc->set_idx[i] = (uint32_t)o->n++;
}

static void add(struct ctx *c, const char *key, const char *shown)
{
    add3(c, key, strlen(key), "", 0, "", 0, shown, strlen(shown), "", 0);
}

/* The Snowball stem of word w (n bytes, folded, hash_n hw) into out
 * (WORD_MAX + 1 bytes), through the thread's cache; returns its length. */
static size_t stem(struct ctx *c, const char *w, size_t n, uint32_t hw, char *out)
{
    struct scratch *sc = c->sc;
    uint32_t h = hw & (CACHE_SIZE - 1);
    if (sc->cache[h].wn == n && memcmp(sc->cache[h].word, w, n) == 0) {
        memcpy(out, sc->cache[h].stem, sc->cache[h].sn);
        out[sc->cache[h].sn] = '\0';
        return sc->cache[h].sn;
    }
    const sb_symbol *s =
        sc->stemmer ? sb_stemmer_stem(sc->stemmer, (const sb_symbol *)w, (int)n) : NULL;
    size_t len = s ? put(out, WORD_MAX + 1, (const char *)s, (size_t)sb_stemmer_length(sc->stemmer))
                   : put(out, WORD_MAX + 1, w, n);
    if (n <= CACHED_MAX && len <= CACHED_MAX) {
        sc->cache[h].wn = (unsigned char)n;
        sc->cache[h].sn = (unsigned char)len;
        memcpy(sc->cache[h].word, w, n);
        memcpy(sc->cache[h].stem, out, len);
    }
    return len;
}

/* Whether w (hash_n h) is one of the caller's words or (kind) a common name. */
static bool excluded(const struct ctx *c, const char *w, uint32_t h, int kind)
{
    if (!(c->excluded_bits >> (h & 63) & 1))
        return kind & NAME;
    for (size_t i = 0; i < c->n_excluded; i++)
        if (c->excluded_hash[i] == h && strcmp(c->excluded[i], w) == 0)
            return true;
    return kind & NAME;
}

static bool is_alnum(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

/* Blanks e-mail and web addresses out of folded text t, adding a feature for
 * each kind found. */
static void mask_addresses(struct ctx *c, char *t)
{
    for (char *p = t; *p; p++) {
        bool mail = *p == '@';
        bool url = (*p == 'h' && p[1] == 't' &&
                    (strncmp(p, "http://", 7) == 0 || strncmp(p, "https://", 8) == 0)) ||
                   (*p == 'w' && strncmp(p, "www.", 4) == 0);
        if (!mail && !url)
            continue;
        char *a = p, *b = p;
        while (a > t && a[-1] != ' ' && a[-1] != '\n' && a[-1] != '\t' && a[-1] != '<' &&
               a[-1] != '(')
            a--;
        while (*b && *b != ' ' && *b != '\n' && *b != '\t' && *b != '>' && *b != ')')
            b++;
        memset(a, ' ', (size_t)(b - a));
        add(c, mail ? "x:correo" : "x:url",
            mail ? "contiene un correo electrónico" : "contiene una dirección web");
        p = b - 1;
    }
}

/* The words of text t[0..len): unigrams, pairs, and signature words from
 * offset sig on. */
static void words(struct ctx *c, char *t, size_t len, size_t sig)
{
    char prev_stem[WORD_MAX + 1], prev_word[WORD_MAX + 1];
    size_t prev_sn = 0, prev_wn = 0; /* 0: no previous word to pair with */
    size_t i = 0;
    while (i < len) {
        if (!is_alnum((unsigned char)t[i])) {
            if (t[i] == '\n')
                prev_sn = 0; /* pairs do not cross lines */
            i++;
            continue;
        }
        size_t s = i;
        bool digit = false;
        while (i < len && is_alnum((unsigned char)t[i])) {
            digit = digit || (t[i] >= '0' && t[i] <= '9');
            i++;
        }
        size_t n = i - s;
        if (digit || n < 2 || n > WORD_MAX) {
            prev_sn = 0;
            continue;
        }
        char w[WORD_MAX + 1], st[WORD_MAX + 1];
        memcpy(w, t + s, n);
        w[n] = '\0';
        uint32_t h = hash_n(w, n);
        int kind = word_kind(w, n, h);
        if (excluded(c, w, h, kind)) {
            prev_sn = 0;
            continue;
        }
        if (kind & STOP)
            continue;
        size_t sn = stem(c, w, n, h, st);
        add3(c, "w:", 2, st, sn, "", 0, w, n, "", 0);
        if (prev_sn) {
            char k[WORD_MAX + 3], sh[WORD_MAX + 2];
            size_t kn = put(k, sizeof(k), prev_stem, prev_sn);
            k[kn++] = ' ';
            size_t hn = put(sh, sizeof(sh), prev_word, prev_wn);
            sh[hn++] = ' ';
            add3(c, "b:", 2, k, kn, st, sn, sh, hn, w, n);
        }
        if (s >= sig)
            add3(c, "g:", 2, st, sn, "", 0, "firma: ", 7, w, n);
        prev_sn = put(prev_stem, sizeof(prev_stem), st, sn);
        prev_wn = put(prev_word, sizeof(prev_word), w, n);
    }
}
/* Where the signature starts: the last 3 non-empty lines of a body of at
 * least 5 non-empty lines; len (none) otherwise. */
static size_t signature_start(const char *t, size_t from, size_t len)
{
    size_t lines = 0, start = len;
    bool text = false;
    for (size_t i = len; i > from; i--) {
        char ch = t[i - 1];
        if (ch == '\n') {
            if (text && ++lines == 3)
                start = i;
            if (lines == 5)
                return start; /* enough lines: the rest cannot change it */
            text = false;
        } else if (ch != ' ' && ch != '\r' && ch != '\t') {
            text = true;
        }
    }
    if (text)
        lines++;
    return lines >= 5 ? start : len;
}

static const char *const webmail[] = {"gmail.com",     "hotmail.com", "hotmail.es", "outlook.com",
                                      "outlook.es",    "yahoo.com",   "yahoo.es",   "yahoo.com.co",
                                      "live.com",      "msn.com",     "icloud.com", "live.com.co",
                                      "hotmail.com.co"};

static bool ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

/* "d:KIND" and the words of the sender's domain. */
static void domain(struct ctx *c, const char *from)
{
    const char *at = from ? strrchr(from, '@') : NULL;
    if (!at || !at[1])
        return;
    char d[256];
    vt_fold_es(at + 1, d, sizeof(d));
    for (size_t i = 0; i < N_OF(webmail); i++)
        if (strcmp(d, webmail[i]) == 0) {
            add(c, "d:webmail", "correo personal (gmail, hotmail, ...)");
            return;
        }
    static const struct {
        const char *suffix, *key, *shown;
    } kinds[] = {
        {".gov.co", "d:gov.co", "dominio .gov.co"}, {".mil.co", "d:mil.co", "dominio .mil.co"},
        {".edu.co", "d:edu.co", "dominio .edu.co"}, {".edu", "d:edu.co", "dominio .edu.co"},
        {".org.co", "d:org", "dominio .org"},       {".org", "d:org", "dominio .org"},
        {".com.co", "d:com", "dominio de empresa"}, {".com", "d:com", "dominio de empresa"},
        {".net", "d:com", "dominio de empresa"},    {".co", "d:com", "dominio de empresa"}};
    size_t cut = strlen(d);
    const char *key = "d:otro", *shown = "otro dominio";
    for (size_t i = 0; i < N_OF(kinds); i++)
        if (ends_with(d, kinds[i].suffix)) {
            key = kinds[i].key;
            shown = kinds[i].shown;
            cut -= strlen(kinds[i].suffix);
            break;
        }
    add(c, key, shown);
    d[cut] = '\0';
    for (char *p = d; *p; p++)
        if (!is_alnum((unsigned char)*p))
            *p = ' ';
    for (char *w = strtok(d, " "); w; w = strtok(NULL, " ")) {
        size_t n = strlen(w);
        uint32_t h = hash_n(w, n);
        if (n < 3 || n > 40 || strpbrk(w, "0123456789") || excluded(c, w, h, word_kind(w, n, h)) ||
            strcmp(w, "www") == 0 || strcmp(w, "mail") == 0)
            continue;
        char st[WORD_MAX + 1];
        size_t sn = stem(c, w, n, h, st);
        add3(c, "l:", 2, st, sn, "", 0, "dominio: ", 9, w, n);
    }
}

/* The caller's excluded strings, split into folded words of 3+ letters. */
static void exclusions(struct ctx *c)
{
    for (size_t i = 0; i < c->in->n_exclude; i++) {
        char f[256];
        vt_fold_es(c->in->exclude[i] ? c->in->exclude[i] : "", f, sizeof(f));
        for (char *p = f; *p; p++)
            if (!is_alnum((unsigned char)*p))
                *p = ' ';
        for (char *w = strtok(f, " "); w && c->n_excluded < N_OF(c->excluded);
             w = strtok(NULL, " ")) {
            size_t n = strlen(w);
            if (n >= 3 && n < sizeof(c->excluded[0])) {
                uint32_t h = hash_n(w, n);
                c->excluded_hash[c->n_excluded] = h;
                c->excluded_bits |= (uint64_t)1 << (h & 63);
                memcpy(c->excluded[c->n_excluded++], w, n + 1);
            }
        }
    }
}

int vt_features_extract(const struct vt_text_input *in, struct vt_features *out)
{
    struct ctx c = {0};
    out->n = 0;
    if (!(c.sc = scratch_get()))
        return VT_ENOMEM;
    if (++c.sc->gen == 0) { /* the stamps wrapped: clear them once */
        memset(c.sc->set_gen, 0, sizeof(c.sc->set_gen));
        c.sc->gen = 1;
    }
    c.out = out;
    c.in = in;
    exclusions(&c);
    char *t = c.sc->text;
    size_t n = vt_fold_es(in->subject ? in->subject : "", t, TEXT_MAX);
    t[n++] = '\n';
    size_t body = n;
    n += vt_fold_es(in->body ? in->body : "", t + n, TEXT_MAX);
    mask_addresses(&c, t);
    words(&c, t, n, signature_start(t, body, n));
    domain(&c, in->from);
    if (in->channel && *in->channel) {
        char key[64], shown[64];
        const char *name = strcmp(in->channel, "email") == 0      ? "correo"
                           : strcmp(in->channel, "whatsapp") == 0 ? "WhatsApp"
                           : strcmp(in->channel, "web") == 0      ? "formulario web"
                                                                  : in->channel;
        snprintf(key, sizeof(key), "c:%.40s", in->channel);
        snprintf(shown, sizeof(shown), "canal: %.40s", name);
        add(&c, key, shown);
    }
    return c.err;
}

void vt_features_cleanup(struct vt_features *f)
{
    if (!f)
        return;
    free(f->f);
    f->f = NULL;
    f->n = f->cap = 0;
}
