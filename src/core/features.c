/* features.c - the features of a message for the learned classifier: see
 * features.h for what they are and what never becomes one. */
#include "core/features.h"

#include <libstemmer.h>
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

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool in_list(const char *const *list, size_t n, const char *w)
{
    return bsearch(&w, list, n, sizeof(*list), cmp_str) != NULL;
}

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

struct ctx {
    struct vt_features *out;
    int32_t set[SET_SIZE]; /* index + 1 into out->f, 0 empty */
    struct sb_stemmer *stemmer;
    const struct vt_text_input *in;
    char excluded[16][48]; /* the caller's words, folded */
    size_t n_excluded;
    int err;
};

static uint32_t hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* Adds key (shown as shown) unless the message has it already. */
static void add(struct ctx *c, const char *key, const char *shown)
{
    struct vt_features *o = c->out;
    if (c->err || o->n >= MAX_FEATURES)
        return;
    uint32_t i = hash(key) & (SET_SIZE - 1);
    for (; c->set[i]; i = (i + 1) & (SET_SIZE - 1))
        if (strcmp(o->f[c->set[i] - 1].key, key) == 0)
            return;
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 128;
        struct vt_feature *f = realloc(o->f, cap * sizeof(*f));
        if (!f) {
            c->err = VT_ENOMEM;
            return;
        }
        o->f = f;
        o->cap = cap;
    }
    snprintf(o->f[o->n].key, sizeof(o->f[o->n].key), "%s", key);
    snprintf(o->f[o->n].shown, sizeof(o->f[o->n].shown), "%s", shown);
    c->set[i] = (int32_t)++o->n;
}

static const char *stem(struct ctx *c, const char *w, char *out, size_t cap)
{
    const sb_symbol *s =
        c->stemmer ? sb_stemmer_stem(c->stemmer, (const sb_symbol *)w, (int)strlen(w)) : NULL;
    if (!s) {
        snprintf(out, cap, "%s", w);
        return out;
    }
    snprintf(out, cap, "%.*s", sb_stemmer_length(c->stemmer), (const char *)s);
    return out;
}

static bool excluded(const struct ctx *c, const char *w)
{
    for (size_t i = 0; i < c->n_excluded; i++)
        if (strcmp(c->excluded[i], w) == 0)
            return true;
    return in_list(names, N_OF(names), w);
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
        bool url = strncmp(p, "http://", 7) == 0 || strncmp(p, "https://", 8) == 0 ||
                   strncmp(p, "www.", 4) == 0;
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
    char prev_stem[48] = "", prev_word[48] = "";
    size_t i = 0;
    while (i < len) {
        if (!is_alnum((unsigned char)t[i])) {
            if (t[i] == '\n')
                prev_stem[0] = '\0'; /* pairs do not cross lines */
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
        if (digit || n < 2 || n > 40) {
            prev_stem[0] = '\0';
            continue;
        }
        char w[48], st[48], key[64], shown[64];
        memcpy(w, t + s, n);
        w[n] = '\0';
        if (excluded(c, w)) {
            prev_stem[0] = '\0';
            continue;
        }
        if (in_list(stop_words, N_OF(stop_words), w))
            continue;
        stem(c, w, st, sizeof(st));
        snprintf(key, sizeof(key), "w:%s", st);
        add(c, key, w);
        if (prev_stem[0]) {
            snprintf(key, sizeof(key), "b:%s %s", prev_stem, st);
            snprintf(shown, sizeof(shown), "%s %s", prev_word, w);
            add(c, key, shown);
        }
        if (s >= sig) {
            snprintf(key, sizeof(key), "g:%s", st);
            snprintf(shown, sizeof(shown), "firma: %s", w);
            add(c, key, shown);
        }
        snprintf(prev_stem, sizeof(prev_stem), "%s", st);
        snprintf(prev_word, sizeof(prev_word), "%s", w);
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
        if (n < 3 || n > 40 || strpbrk(w, "0123456789") || excluded(c, w) ||
            strcmp(w, "www") == 0 || strcmp(w, "mail") == 0)
            continue;
        char st[48], k[64], s[64];
        stem(c, w, st, sizeof(st));
        snprintf(k, sizeof(k), "l:%s", st);
        snprintf(s, sizeof(s), "dominio: %s", w);
        add(c, k, s);
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
             w = strtok(NULL, " "))
            if (strlen(w) >= 3 && strlen(w) < sizeof(c->excluded[0]))
                snprintf(c->excluded[c->n_excluded++], sizeof(c->excluded[0]), "%s", w);
    }
}

int vt_features_extract(const struct vt_text_input *in, struct vt_features *out)
{
    static struct ctx zero;
    struct ctx *c = malloc(sizeof(*c));
    char *t = malloc(TEXT_MAX * 2 + 2);
    out->n = 0;
    if (!c || !t) {
        free(c);
        free(t);
        return VT_ENOMEM;
    }
    *c = zero;
    c->out = out;
    c->in = in;
    c->stemmer = sb_stemmer_new("spanish", "UTF_8");
    exclusions(c);
    size_t n = vt_fold_es(in->subject ? in->subject : "", t, TEXT_MAX);
    t[n++] = '\n';
    size_t body = n;
    n += vt_fold_es(in->body ? in->body : "", t + n, TEXT_MAX);
    mask_addresses(c, t);
    words(c, t, n, signature_start(t, body, n));
    domain(c, in->from);
    if (in->channel && *in->channel) {
        char key[64], shown[64];
        const char *name = strcmp(in->channel, "email") == 0      ? "correo"
                           : strcmp(in->channel, "whatsapp") == 0 ? "WhatsApp"
                           : strcmp(in->channel, "web") == 0      ? "formulario web"
                                                                  : in->channel;
        snprintf(key, sizeof(key), "c:%.40s", in->channel);
        snprintf(shown, sizeof(shown), "canal: %.40s", name);
        add(c, key, shown);
    }
    if (c->stemmer)
        sb_stemmer_delete(c->stemmer);
    int err = c->err;
    free(c);
    free(t);
    return err;
}

void vt_features_cleanup(struct vt_features *f)
{
    if (!f)
        return;
    free(f->f);
    f->f = NULL;
    f->n = f->cap = 0;
}
