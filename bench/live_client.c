/* bench/live_client.c - the WebSocket side of bench/live.
 *
 * Holds CLIENTS connections to /live (subprotocol ventanilla-live), each
 * subscribed to items and metrics, in PROCS worker processes (fork; each an
 * epoll loop over its slice of the connections), and stamps every frame with
 * CLOCK_MONOTONIC when the read that brought it returned. A Python client
 * cannot do this at the bench's load: 1,000 clients x 1,000 intakes/s is
 * over a million frames a second to read (one python3-websockets 10.4
 * process read 105,000 a second at 71% of a core here, see bench/README.md).
 *
 *   live_client run HOST PORT CLIENTS PROCS MAXSEQ QUIET_S OUTDIR
 *     connects, subscribes, waits for every client's first metrics snapshot,
 *     prints "READY clients=N" on stdout, records until SIGUSR1 and then
 *     until QUIET_S seconds pass without a frame on any connection, and
 *     writes OUTDIR/base (the clock's origin) and OUTDIR/w<K>.{bin,txt,rad}.
 *   live_client run HOST PORT CLIENTS PROCS MAXSEQ QUIET_S OUTDIR HEARING CAP_S
 *     the same as wall viewers of one hearing (bench/hearing): subscribes to
 *     {"subscribe":["wall"],"hearing":HEARING}, waits for every viewer's first
 *     wall, records each question's FIRST sighting at each viewer (every wall
 *     message is the whole wall) and stops at most CAP_S seconds after SIGUSR1.
 *     The counters keep their names: "items/created" counts first
 *     sightings, "metrics snapshots" walls, "last metrics total" the
 *     questions on the last wall seen.
 *   live_client analyze OUTDIR PROCS LOADFILE
 *     matches every event with the load generator's 201 by radicado and
 *     prints the delays (from the 201's arrival at the generator to the
 *     event's arrival at each client) over all (client, item) pairs.
 *
 * Radicados are PREFIX-YYYY-NNNNNN: the trailing number (the counter, from 1
 * on a fresh store) indexes the per-client arrays, and the whole string is
 * checked against the generator's for that number.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUFSZ (4 * 1024 * 1024) /* a whole wall of 2,000 questions in one frame */

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void die(const char *what)
{
    perror(what);
    exit(2);
}

/* ---- worker ---- */

struct conn {
    int fd;
    bool open, snapshot, closed_by_server;
    unsigned char *buf;
    size_t len;
    uint32_t *recv; /* [maxseq] arrival in us since base, +1; 0 = none */
    long long frames, created, metrics, dups, bad, last_total;
    int64_t t_gone; /* us since base when it went away */
};

static volatile sig_atomic_t g_stop;
static void on_usr1(int sig)
{
    (void)sig;
    g_stop = 1;
}

static struct {
    int64_t base;
    long maxseq;
    char (*rad)[48]; /* [maxseq] the radicado seen for each number */
    long long rad_mismatch, seq_over;
    const char *hearing; /* NULL: items and metrics; else the wall of this hearing */
    double cap;          /* seconds after SIGUSR1 at most */
} W;

static long rad_seq(const char *r, size_t n)
{
    size_t i = n;
    while (i > 0 && r[i - 1] >= '0' && r[i - 1] <= '9')
        i--;
    if (i == n || n - i > 12)
        return -1;
    long v = 0;
    for (; i < n; i++)
        v = v * 10 + (r[i] - '0');
    return v;
}

static void on_live_text(struct conn *c, const unsigned char *p, size_t n, int64_t t)
{
    static const char ev[] = "\"event\":\"created\"", rk[] = "\"radicado\":\"", tk[] = "\"total\":";
    c->frames++;
    if (n > 16 && memcmp(p, "{\"topic\":\"items\"", 16) == 0) {
        if (!memmem(p, n, ev, sizeof(ev) - 1))
            return;
        const unsigned char *r = memmem(p, n, rk, sizeof(rk) - 1);
        if (!r) {
            c->bad++;
            return;
        }
        r += sizeof(rk) - 1;
        const unsigned char *e = memchr(r, '"', n - (size_t)(r - p));
        if (!e || e - r >= 48) {
            c->bad++;
            return;
        }
        size_t rl = (size_t)(e - r);
        long seq = rad_seq((const char *)r, rl);
        c->created++;
        if (seq < 0 || seq >= W.maxseq) {
            W.seq_over++;
            return;
        }
        if (!W.rad[seq][0])
            memcpy(W.rad[seq], r, rl);
        else if (strlen(W.rad[seq]) != rl || memcmp(W.rad[seq], r, rl) != 0)
            W.rad_mismatch++;
        if (c->recv[seq])
            c->dups++;
        else
            c->recv[seq] = (uint32_t)(t + 1);
    } else if (n > 18 && memcmp(p, "{\"topic\":\"metrics\"", 18) == 0) {
        c->metrics++;
        c->snapshot = true;
        const unsigned char *q = memmem(p, n, tk, sizeof(tk) - 1);
        if (q)
            c->last_total = strtoll((const char *)q + sizeof(tk) - 1, NULL, 10);
    } else {
        c->bad++;
    }
}

static void on_wall_text(struct conn *c, const unsigned char *p, size_t n, int64_t t)
{
    static const char rk[] = "\"radicado\":\"";
    c->frames++;
    if (!(n > 15 && memcmp(p, "{\"topic\":\"wall\"", 15) == 0)) {
        c->bad++;
        return;
    }
    /* Every wall message is the whole wall: each question's first sighting
     * at this viewer is what counts. */
    c->metrics++;
    c->snapshot = true;
    const unsigned char *q = p, *end = p + n;
    long shown = 0;
    while ((q = memmem(q, (size_t)(end - q), rk, sizeof(rk) - 1))) {
        const unsigned char *r = q + sizeof(rk) - 1;
        const unsigned char *e = memchr(r, '"', (size_t)(end - r));
        if (!e || e - r >= 48) {
            c->bad++;
            return;
        }
        q = e;
        size_t rl = (size_t)(e - r);
        long seq = rad_seq((const char *)r, rl);
        shown++;
        if (seq < 0 || seq >= W.maxseq) {
            W.seq_over++;
            continue;
        }
        if (!W.rad[seq][0])
            memcpy(W.rad[seq], r, rl);
        else if (strlen(W.rad[seq]) != rl || memcmp(W.rad[seq], r, rl) != 0)
            W.rad_mismatch++;
        if (!c->recv[seq]) {
            c->recv[seq] = (uint32_t)(t + 1);
            c->created++;
        }
    }
    c->last_total = shown;
}

static void on_text(struct conn *c, const unsigned char *p, size_t n, int64_t t)
{
    if (W.hearing)
        on_wall_text(c, p, n, t);
    else
        on_live_text(c, p, n, t);
}

static void send_frame(int fd, int opcode, const unsigned char *p, size_t n)
{
    unsigned char f[256];
    if (n > 125)
        return;
    unsigned char mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    f[0] = (unsigned char)(0x80 | opcode);
    f[1] = (unsigned char)(0x80 | n);
    memcpy(f + 2, mask, 4);
    for (size_t i = 0; i < n; i++)
        f[6 + i] = p[i] ^ mask[i % 4];
    size_t len = 6 + n, off = 0;
    while (off < len) {
        ssize_t w = send(fd, f + off, len - off, MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (w <= 0)
            return;
        off += (size_t)w;
    }
}

static void gone(struct conn *c, int ep, bool by_server)
{
    if (!c->open)
        return;
    c->open = false;
    c->closed_by_server = by_server;
    c->t_gone = now_us() - W.base;
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
}

/* Parses the complete frames in c->buf. */
static void parse(struct conn *c, int ep, int64_t t)
{
    size_t off = 0;
    while (c->len - off >= 2) {
        unsigned char *b = c->buf + off;
        int op = b[0] & 0x0f;
        bool fin = b[0] & 0x80, masked = b[1] & 0x80;
        uint64_t pl = b[1] & 0x7f;
        size_t hl = 2;
        if (pl == 126) {
            if (c->len - off < 4)
                break;
            pl = ((uint64_t)b[2] << 8) | b[3];
            hl = 4;
        } else if (pl == 127) {
            if (c->len - off < 10)
                break;
            pl = 0;
            for (int i = 0; i < 8; i++)
                pl = (pl << 8) | b[2 + i];
            hl = 10;
        }
        if (masked)
            hl += 4;
        if (hl + pl > BUFSZ) {
            fprintf(stderr, "live_client: frame of %llu bytes\n", (unsigned long long)pl);
            c->bad++;
            gone(c, ep, false);
            return;
        }
        if (c->len - off < hl + pl)
            break;
        unsigned char *p = b + hl;
        if (op == 1 && fin)
            on_text(c, p, (size_t)pl, t);
        else if (op == 9)
            send_frame(c->fd, 10, p, (size_t)pl);
        else if (op == 8) {
            gone(c, ep, true);
            return;
        } else if (op != 10)
            c->bad++;
        off += hl + (size_t)pl;
    }
    if (off) {
        memmove(c->buf, c->buf + off, c->len - off);
        c->len -= off;
    }
}

static int handshake(struct conn *c, const char *host, int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return -1;
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0)
        return -1;
    struct timeval tv = {10, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        goto fail;
    char req[512];
    int n = snprintf(req, sizeof(req),
                     "GET /live HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ventanilla-live\r\n\r\n",
                     host, port);
    if (send(c->fd, req, (size_t)n, MSG_NOSIGNAL) != n)
        goto fail;
    char *end = NULL;
    while (!end) {
        if (c->len == BUFSZ - 1)
            goto fail;
        ssize_t r = recv(c->fd, c->buf + c->len, BUFSZ - 1 - c->len, 0);
        if (r <= 0)
            goto fail;
        c->len += (size_t)r;
        c->buf[c->len] = 0;
        end = strstr((char *)c->buf, "\r\n\r\n");
    }
    *end = 0;
    if (strncmp((char *)c->buf, "HTTP/1.1 101", 12) != 0 ||
        !strcasestr((char *)c->buf, "\r\nSec-WebSocket-Protocol: ventanilla-live")) {
        fprintf(stderr, "live_client: handshake refused: %.200s\n", (char *)c->buf);
        goto fail;
    }
    size_t hl = (size_t)(end + 4 - (char *)c->buf);
    memmove(c->buf, c->buf + hl, c->len - hl);
    c->len -= hl;
    char sub[160];
    int sl = W.hearing ? snprintf(sub, sizeof(sub), "{\"subscribe\":[\"wall\"],\"hearing\":\"%s\"}",
                                  W.hearing)
                       : snprintf(sub, sizeof(sub), "{\"subscribe\":[\"items\",\"metrics\"]}");
    send_frame(c->fd, 1, (const unsigned char *)sub, (size_t)sl);
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    c->open = true;
    return 0;
fail:
    close(c->fd);
    c->fd = -1;
    return -1;
}

static int worker(int k, int ready_fd, const char *host, int port, int lo, int hi, double quiet,
                  const char *outdir)
{
    int n = hi - lo;
    struct conn *cs = calloc((size_t)n, sizeof(*cs));
    W.rad = calloc((size_t)W.maxseq, sizeof(*W.rad));
    if (!cs || !W.rad)
        die("calloc");
    int ep = epoll_create1(0);
    int ok = 0;
    for (int i = 0; i < n; i++) {
        struct conn *c = &cs[i];
        c->buf = malloc(BUFSZ);
        c->recv = calloc((size_t)W.maxseq, sizeof(uint32_t));
        if (!c->buf || !c->recv)
            die("malloc");
        if (handshake(c, host, port) != 0)
            continue;
        struct epoll_event e = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e);
        ok++;
    }
    struct epoll_event evs[512];
    /* Every client's first metrics snapshot (its subscription is in). */
    int64_t deadline = now_us() + 30000000;
    for (;;) {
        int have = 0;
        for (int i = 0; i < n; i++)
            have += cs[i].open && cs[i].snapshot;
        if (have == ok || now_us() > deadline)
            break;
        int m = epoll_wait(ep, evs, 512, 100);
        for (int j = 0; j < m; j++) {
            struct conn *c = &cs[evs[j].data.u32];
            ssize_t r = recv(c->fd, c->buf + c->len, BUFSZ - c->len, 0);
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
                gone(c, ep, false);
            else if (r > 0) {
                c->len += (size_t)r;
                parse(c, ep, now_us() - W.base);
            }
        }
    }
    int subscribed = 0;
    for (int i = 0; i < n; i++)
        subscribed += cs[i].open && cs[i].snapshot;
    char msg[64];
    int ml = snprintf(msg, sizeof(msg), "%d %d\n", ok, subscribed);
    if (write(ready_fd, msg, (size_t)ml) != ml)
        die("write");
    close(ready_fd);

    double cpu0 = cpu_s(), cpu1 = 0;
    int64_t t0 = now_us(), t1 = 0, last_frame = t0, inq_samples = 0, next_sample = t0;
    long long inq_sum = 0, inq_max = 0, reads = 0, bytes = 0;
    for (;;) {
        int m = epoll_wait(ep, evs, 512, 50);
        int64_t t = now_us();
        for (int j = 0; j < m; j++) {
            struct conn *c = &cs[evs[j].data.u32];
            if (!c->open)
                continue;
            for (;;) {
                ssize_t r = recv(c->fd, c->buf + c->len, BUFSZ - c->len, 0);
                if (r < 0 && errno == EINTR)
                    continue;
                if (r == 0 || (r < 0 && errno != EAGAIN)) {
                    gone(c, ep, false);
                    break;
                }
                if (r < 0)
                    break;
                t = now_us();
                reads++;
                bytes += r;
                c->len += (size_t)r;
                parse(c, ep, t - W.base);
                last_frame = t;
                if (!c->open || c->len < BUFSZ / 2)
                    break;
            }
        }
        /* What the kernel holds for us unread: near zero while we keep up. */
        if (t >= next_sample) {
            long long q = 0;
            for (int i = 0; i < n; i++) {
                int v = 0;
                if (cs[i].open && ioctl(cs[i].fd, FIONREAD, &v) == 0)
                    q += v;
            }
            inq_sum += q;
            inq_samples++;
            if (q > inq_max)
                inq_max = q;
            next_sample = t + 100000;
        }
        if (g_stop && !t1) {
            t1 = t;
            cpu1 = cpu_s();
        }
        if (t1 && t - last_frame >= (int64_t)(quiet * 1e6))
            break;
        if (t1 && t - t1 > (int64_t)(W.cap * 1e6))
            break;
    }
    int64_t t2 = now_us();
    double cpu2 = cpu_s();

    char path[4096];
    snprintf(path, sizeof(path), "%s/w%d.bin", outdir, k);
    FILE *f = fopen(path, "wb");
    if (!f)
        die(path);
    for (int i = 0; i < n; i++) {
        int32_t hdr[2] = {lo + i, cs[i].snapshot ? 1 : 0};
        fwrite(hdr, sizeof(hdr), 1, f);
        fwrite(cs[i].recv, sizeof(uint32_t), (size_t)W.maxseq, f);
    }
    fclose(f);
    snprintf(path, sizeof(path), "%s/w%d.rad", outdir, k);
    f = fopen(path, "w");
    if (!f)
        die(path);
    for (long s = 0; s < W.maxseq; s++)
        if (W.rad[s][0])
            fprintf(f, "%ld %s\n", s, W.rad[s]);
    fclose(f);
    long long frames = 0, created = 0, metrics = 0, dups = 0, bad = 0, open_end = 0, by_server = 0,
              other_gone = 0, total_min = -1, total_max = -1;
    int64_t first_gone = -1;
    for (int i = 0; i < n; i++) {
        struct conn *c = &cs[i];
        frames += c->frames;
        created += c->created;
        metrics += c->metrics;
        dups += c->dups;
        bad += c->bad;
        if (c->open)
            open_end++;
        else if (c->fd >= 0 && c->snapshot) {
            if (c->closed_by_server)
                by_server++;
            else
                other_gone++;
            if (first_gone < 0 || c->t_gone < first_gone)
                first_gone = c->t_gone;
        }
        if (c->snapshot) {
            if (total_min < 0 || c->last_total < total_min)
                total_min = c->last_total;
            if (c->last_total > total_max)
                total_max = c->last_total;
        }
    }
    snprintf(path, sizeof(path), "%s/w%d.txt", outdir, k);
    f = fopen(path, "w");
    if (!f)
        die(path);
    fprintf(f,
            "clients=%d connected=%d subscribed=%d open_at_end=%lld closed_by_server=%lld "
            "dropped=%lld first_gone_us=%lld frames=%lld created=%lld metrics=%lld dups=%lld "
            "bad=%lld rad_mismatch=%lld seq_over=%lld reads=%lld bytes=%lld cpu_load=%.3f "
            "wall_load=%.3f cpu_all=%.3f wall_all=%.3f inq_max=%lld inq_mean=%.0f t_ready_us=%lld "
            "t_stop_us=%lld last_total_min=%lld last_total_max=%lld\n",
            n, ok, subscribed, open_end, by_server, other_gone, (long long)first_gone, frames,
            created, metrics, dups, bad, W.rad_mismatch, W.seq_over, reads, bytes, cpu1 - cpu0,
            (t1 - t0) / 1e6, cpu2 - cpu0, (t2 - t0) / 1e6, inq_max,
            inq_samples ? (double)inq_sum / inq_samples : 0.0, (long long)(t0 - W.base),
            (long long)(t1 - W.base), total_min, total_max);
    fclose(f);
    return 0;
}

static int run(int argc, char **argv)
{
    if (argc != 9 && argc != 11) {
        fprintf(stderr, "usage: live_client run HOST PORT CLIENTS PROCS MAXSEQ QUIET_S OUTDIR "
                        "[HEARING CAP_S]\n");
        return 2;
    }
    const char *host = argv[2], *outdir = argv[8];
    int port = atoi(argv[3]), clients = atoi(argv[4]), procs = atoi(argv[5]);
    W.maxseq = atol(argv[6]) + 1;
    double quiet = atof(argv[7]);
    W.hearing = argc == 11 ? argv[9] : NULL;
    W.cap = argc == 11 ? atof(argv[10]) : 600;
    if (clients < 1)
        clients = 1;
    if (procs < 1)
        procs = 1;
    if (procs > clients)
        procs = clients;
    W.base = now_us() - 1000000;
    char path[4096];
    snprintf(path, sizeof(path), "%s/base", outdir);
    FILE *f = fopen(path, "w");
    if (!f)
        die(path);
    fprintf(f, "%lld\n", (long long)W.base);
    fclose(f);

    struct sigaction sa = {.sa_handler = on_usr1};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    pid_t *pids = calloc((size_t)procs, sizeof(pid_t));
    int *rfd = calloc((size_t)procs, sizeof(int));
    for (int k = 0; k < procs; k++) {
        int p[2];
        if (pipe(p) != 0)
            die("pipe");
        int lo = (int)((long)clients * k / procs), hi = (int)((long)clients * (k + 1) / procs);
        pid_t pid = fork();
        if (pid < 0)
            die("fork");
        if (pid == 0) {
            close(p[0]);
            exit(worker(k, p[1], host, port, lo, hi, quiet, outdir));
        }
        close(p[1]);
        pids[k] = pid;
        rfd[k] = p[0];
    }
    int ok = 0, subscribed = 0;
    for (int k = 0; k < procs; k++) {
        char buf[64] = {0};
        ssize_t r = read(rfd[k], buf, sizeof(buf) - 1);
        int a = 0, b = 0;
        if (r > 0)
            sscanf(buf, "%d %d", &a, &b);
        ok += a;
        subscribed += b;
        close(rfd[k]);
    }
    printf("READY clients=%d connected=%d subscribed=%d\n", clients, ok, subscribed);
    fflush(stdout);
    while (!g_stop)
        pause();
    for (int k = 0; k < procs; k++)
        kill(pids[k], SIGUSR1);
    int rc = 0;
    for (int k = 0; k < procs; k++) {
        int st;
        while (waitpid(pids[k], &st, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            rc = 1;
    }
    return rc;
}

/* ---- analysis ---- */

/* Delay histogram: 1 us bins below 1 ms, then bins 0.2% wide. */
#define LIN 1000
#define RATIO 1.002
#define NB (LIN + 7000)

static int bin_of(int64_t d)
{
    if (d < LIN)
        return d < 0 ? 0 : (int)d;
    int b = LIN + (int)(log((double)d / LIN) / log(RATIO));
    return b >= NB ? NB - 1 : b;
}

static double bin_value(int b)
{
    if (b < LIN)
        return b;
    return LIN * pow(RATIO, b - LIN + 0.5);
}

static double pct(const uint64_t *h, uint64_t n, double p)
{
    if (!n)
        return 0;
    uint64_t want = (uint64_t)ceil(n * p / 100.0), acc = 0;
    if (want < 1)
        want = 1;
    for (int b = 0; b < NB; b++) {
        acc += h[b];
        if (acc >= want)
            return bin_value(b);
    }
    return bin_value(NB - 1);
}

static long long kv_get(const char *text, const char *key)
{
    char k[64];
    snprintf(k, sizeof(k), " %s=", key);
    const char *p = strstr(text, k);
    if (!p && strncmp(text, k + 1, strlen(k + 1)) == 0)
        p = text - 1;
    return p ? atoll(p + strlen(k)) : 0;
}

static double kv_getf(const char *text, const char *key)
{
    char k[64];
    snprintf(k, sizeof(k), " %s=", key);
    const char *p = strstr(text, k);
    return p ? atof(p + strlen(k)) : 0;
}

static int analyze(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: live_client analyze OUTDIR PROCS LOADFILE\n");
        return 2;
    }
    const char *outdir = argv[2], *loadfile = argv[4];
    int procs = atoi(argv[3]);
    char path[4096];
    snprintf(path, sizeof(path), "%s/base", outdir);
    FILE *f = fopen(path, "r");
    long long base = 0;
    if (!f || fscanf(f, "%lld", &base) != 1)
        die(path);
    fclose(f);

    /* The generator's answers: radicado number -> 201 arrival (us since base). */
    f = fopen(loadfile, "r");
    if (!f)
        die(loadfile);
    long cap = 1 << 16, maxs = 0, n201 = 0;
    int64_t *t201 = calloc((size_t)cap, sizeof(int64_t)),
            *tsent = calloc((size_t)cap, sizeof(int64_t));
    char(*rad)[48] = calloc((size_t)cap, sizeof(*rad));
    char line[512], r[64];
    long idx;
    double t_due, t_sent, t_ans;
    int status;
    double first_ans = 1e18;
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "%ld %63s %lf %lf %lf %d", &idx, r, &t_due, &t_sent, &t_ans, &status) != 6)
            continue;
        if (status != 201 && status != 200) /* an intake's 201, or a wall's approve 200 */
            continue;
        long s = rad_seq(r, strlen(r));
        if (s < 0)
            continue;
        while (s >= cap) {
            t201 = realloc(t201, (size_t)cap * 2 * sizeof(int64_t));
            tsent = realloc(tsent, (size_t)cap * 2 * sizeof(int64_t));
            memset(tsent + cap, 0, (size_t)cap * sizeof(int64_t));
            rad = realloc(rad, (size_t)cap * 2 * sizeof(*rad));
            memset(t201 + cap, 0, (size_t)cap * sizeof(int64_t));
            memset(rad + cap, 0, (size_t)cap * sizeof(*rad));
            cap *= 2;
        }
        t201[s] = (int64_t)llround(t_ans * 1e6) - base;
        tsent[s] = (int64_t)llround(t_sent * 1e6) - base;
        snprintf(rad[s], sizeof(rad[s]), "%.47s", r);
        if (s > maxs)
            maxs = s;
        if (t_ans < first_ans)
            first_ans = t_ans;
        n201++;
    }
    fclose(f);
    int64_t t_first = (int64_t)llround(first_ans * 1e6) - base;

    /* Every worker's stats line, summed. */
    long long clients = 0, connected = 0, subscribed = 0, open_end = 0, by_server = 0, dropped = 0,
              frames = 0, created = 0, metrics = 0, dups = 0, bad = 0, mism = 0, over = 0,
              inq_max = 0, total_min = -1, total_max = -1;
    double cpu_load = 0, wall_load = 0, cpu_all = 0, inq_mean = 0;
    long long first_gone = -1;
    long maxseq = 0;
    for (int k = 0; k < procs; k++) {
        char text[4096] = " ";
        snprintf(path, sizeof(path), "%s/w%d.txt", outdir, k);
        f = fopen(path, "r");
        if (!f || !fgets(text + 1, sizeof(text) - 1, f))
            die(path);
        fclose(f);
        clients += kv_get(text, "clients");
        connected += kv_get(text, "connected");
        subscribed += kv_get(text, "subscribed");
        open_end += kv_get(text, "open_at_end");
        by_server += kv_get(text, "closed_by_server");
        dropped += kv_get(text, "dropped");
        frames += kv_get(text, "frames");
        created += kv_get(text, "created");
        metrics += kv_get(text, "metrics");
        dups += kv_get(text, "dups");
        bad += kv_get(text, "bad");
        mism += kv_get(text, "rad_mismatch");
        over += kv_get(text, "seq_over");
        inq_mean += kv_getf(text, "inq_mean");
        if (kv_get(text, "inq_max") > inq_max)
            inq_max = kv_get(text, "inq_max");
        cpu_load += kv_getf(text, "cpu_load");
        cpu_all += kv_getf(text, "cpu_all");
        if (kv_getf(text, "wall_load") > wall_load)
            wall_load = kv_getf(text, "wall_load");
        long long g = kv_get(text, "first_gone_us");
        if (g >= 0 && (kv_get(text, "closed_by_server") + kv_get(text, "dropped")) &&
            (first_gone < 0 || g < first_gone))
            first_gone = g;
        long long tmin = kv_get(text, "last_total_min"), tmax = kv_get(text, "last_total_max");
        if (tmin >= 0 && (total_min < 0 || tmin < total_min))
            total_min = tmin;
        if (tmax > total_max)
            total_max = tmax;
        /* Radicados as the clients saw them, against the generator's. */
        snprintf(path, sizeof(path), "%s/w%d.rad", outdir, k);
        f = fopen(path, "r");
        if (!f)
            die(path);
        long s;
        while (fscanf(f, "%ld %63s", &s, r) == 2) {
            if (s <= maxs && rad[s][0] && strcmp(rad[s], r) != 0)
                mism++;
            if (s + 1 > maxseq)
                maxseq = s + 1;
        }
        fclose(f);
    }

    /* Delays over all (client, item) pairs of the subscribed clients. */
    uint64_t *h = calloc(NB, sizeof(uint64_t)), *hsend = calloc(NB, sizeof(uint64_t));
    int64_t smax = INT64_MIN;
    int nsec = (int)((t201[maxs] - t_first) / 1000000) + 2;
    for (long s = 0; s <= maxs; s++)
        if (t201[s] && (t201[s] - t_first) / 1000000 + 2 > nsec)
            nsec = (int)((t201[s] - t_first) / 1000000) + 2;
    uint64_t *hs = calloc((size_t)nsec * NB, sizeof(uint64_t));
    uint64_t *ns = calloc((size_t)nsec, sizeof(uint64_t));
    uint64_t pairs = 0, got = 0, missing = 0, negative = 0, unexpected = 0;
    long long clients_missing = 0;
    int64_t dmax = INT64_MIN, dmin = INT64_MAX;
    double dsum = 0;
    long file_maxseq = 0;
    for (int k = 0; k < procs; k++) {
        snprintf(path, sizeof(path), "%s/w%d.bin", outdir, k);
        f = fopen(path, "rb");
        if (!f)
            die(path);
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        fseek(f, 0, SEEK_SET);
        int32_t hdr[2];
        /* rows are 8 + 4 * maxseq bytes; count = clients of this worker */
        char text[4096] = " ";
        snprintf(path, sizeof(path), "%s/w%d.txt", outdir, k);
        FILE *g = fopen(path, "r");
        if (!g || !fgets(text + 1, sizeof(text) - 1, g))
            die(path);
        fclose(g);
        long nc = (long)kv_get(text, "clients");
        file_maxseq = nc ? (size / nc - 8) / 4 : 0;
        uint32_t *row = malloc((size_t)file_maxseq * sizeof(uint32_t));
        for (long c = 0; c < nc; c++) {
            if (fread(hdr, sizeof(hdr), 1, f) != 1 ||
                fread(row, sizeof(uint32_t), (size_t)file_maxseq, f) != (size_t)file_maxseq)
                die("short read");
            if (!hdr[1])
                continue; /* never subscribed: counted apart */
            long miss = 0;
            for (long s = 0; s < file_maxseq; s++) {
                bool want = s <= maxs && t201[s];
                if (!want) {
                    if (row[s])
                        unexpected++;
                    continue;
                }
                pairs++;
                if (!row[s]) {
                    missing++;
                    miss++;
                    continue;
                }
                got++;
                int64_t d = (int64_t)row[s] - 1 - t201[s];
                if (d < 0)
                    negative++;
                if (d > dmax)
                    dmax = d;
                if (d < dmin)
                    dmin = d;
                dsum += d;
                h[bin_of(d)]++;
                int64_t ds = (int64_t)row[s] - 1 - tsent[s];
                hsend[bin_of(ds)]++;
                if (ds > smax)
                    smax = ds;
                int sec = (int)((t201[s] - t_first) / 1000000);
                hs[(size_t)sec * NB + bin_of(d)]++;
                ns[sec]++;
            }
            for (long s = file_maxseq; s <= maxs; s++)
                if (t201[s]) {
                    pairs++;
                    missing++;
                    miss++;
                }
            if (miss)
                clients_missing++;
        }
        free(row);
        fclose(f);
    }
    printf("clients:            %lld asked, %lld connected, %lld subscribed (first snapshot "
           "received)\n",
           clients, connected, subscribed);
    printf(
        "disconnected:       %lld (%lld with a close frame, %lld without: the socket closed under "
        "them, which is how the daemon drops a client too far behind); %lld open at the end",
        by_server + dropped, by_server, dropped, open_end);
    if (first_gone >= 0)
        printf("; first at %.2f s after the first 201", (first_gone - t_first) / 1e6);
    printf("\n");
    printf("events expected:    %llu (%lld subscribed clients x %ld 201s)\n",
           (unsigned long long)pairs, subscribed, n201);
    printf("events received:    %llu; missing %llu (%lld clients missed at least one); "
           "duplicates %lld; unexpected %llu\n",
           (unsigned long long)got, (unsigned long long)missing, clients_missing, dups,
           (unsigned long long)unexpected);
    printf("frames read:        %lld (%lld items/created, %lld metrics snapshots, %lld other); "
           "radicado mismatches %lld, out of range %lld\n",
           frames, created, metrics, bad, mism, over);
    printf("last metrics total: %lld..%lld over the clients (201s: %ld)\n", total_min, total_max,
           n201);
    printf("delay 201 -> event: p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, p99.9 %.1f ms, max %.1f ms, "
           "mean %.1f ms (%llu pairs; %llu arrived before the generator read the 201, min %.1f "
           "ms; counted as 0 in the percentiles)\n",
           pct(h, got, 50) / 1e3, pct(h, got, 95) / 1e3, pct(h, got, 99) / 1e3,
           pct(h, got, 99.9) / 1e3, got ? dmax / 1e3 : 0.0, got ? dsum / got / 1e3 : 0.0,
           (unsigned long long)got, (unsigned long long)negative, got ? dmin / 1e3 : 0.0);
    printf("delay send -> event: p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms (from the "
           "request's send: commit, answer and fan-out, whatever the generator's own delays)\n",
           pct(hsend, got, 50) / 1e3, pct(hsend, got, 95) / 1e3, pct(hsend, got, 99) / 1e3,
           got ? smax / 1e3 : 0.0);
    printf("p99 201 -> event by second of the run (by the 201's arrival):");
    for (int s = 0; s < nsec; s++)
        if (ns[s])
            printf(" %.0f", pct(hs + (size_t)s * NB, ns[s], 99) / 1e3);
    printf(" ms\n");
    printf("client side:        %.2f CPU-s over %.1f s of load (%.0f%% of one core, %d "
           "process%s; %.2f CPU-s in all); unread in its sockets: mean %.0f B, max %lld B\n",
           cpu_load, wall_load, wall_load > 0 ? 100 * cpu_load / wall_load : 0.0, procs,
           procs == 1 ? "" : "es", cpu_all, inq_mean, inq_max);
    printf("ANALYZE pairs=%llu got=%llu missing=%llu gone=%lld subscribed=%lld p50_ms=%.2f "
           "p95_ms=%.2f p99_ms=%.2f max_ms=%.2f client_cpu_pct=%.0f\n",
           (unsigned long long)pairs, (unsigned long long)got, (unsigned long long)missing,
           by_server + dropped, subscribed, pct(h, got, 50) / 1e3, pct(h, got, 95) / 1e3,
           pct(h, got, 99) / 1e3, got ? dmax / 1e3 : 0.0,
           wall_load > 0 ? 100 * cpu_load / wall_load : 0.0);
    (void)maxseq;
    return missing || by_server + dropped || mism ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "run") == 0)
        return run(argc, argv);
    if (argc > 1 && strcmp(argv[1], "analyze") == 0)
        return analyze(argc, argv);
    fprintf(stderr, "usage: live_client run|analyze ...\n");
    return 2;
}
