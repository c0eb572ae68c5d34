/* test_peers.c - unit tests for peers.c, the per-address connection counts
 * behind server.max_connections_per_ip: keys (IPv4, v4-mapped, IPv6 /64),
 * counts that go up and down, a full table, and many connections coming and
 * going (checked against a plain array, so that removal never loses or
 * invents a count).
 */
#include "http/peers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/error.h"
#include "vt_test.h"

static struct vt_peer_key v4(const char *ip)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    inet_pton(AF_INET, ip, &sa.sin_addr);
    struct vt_peer_key k;
    vt_peers_key((struct sockaddr *)&sa, &k);
    return k;
}

static struct vt_peer_key v6(const char *ip)
{
    struct sockaddr_in6 sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin6_family = AF_INET6;
    inet_pton(AF_INET6, ip, &sa.sin6_addr);
    struct vt_peer_key k;
    vt_peers_key((struct sockaddr *)&sa, &k);
    return k;
}

static void test_keys(void)
{
    struct vt_peer_key a = v4("192.0.2.7"), b = v6("::ffff:192.0.2.7"), c = v4("192.0.2.8");
    ASSERT_TRUE(memcmp(&a, &b, sizeof(a)) == 0); /* the same client over IPv4 or mapped */
    ASSERT_TRUE(memcmp(&a, &c, sizeof(a)) != 0);
    struct vt_peer_key d = v6("2001:db8:1:2::1"), e = v6("2001:db8:1:2:ffff::9");
    struct vt_peer_key f = v6("2001:db8:1:3::1");
    ASSERT_TRUE(memcmp(&d, &e, sizeof(d)) == 0); /* one /64 */
    ASSERT_TRUE(memcmp(&d, &f, sizeof(d)) != 0);
    struct sockaddr unix_sa = {.sa_family = AF_UNIX};
    struct vt_peer_key g;
    ASSERT_TRUE(!vt_peers_key(&unix_sa, &g));
}

static void test_counts(void)
{
    struct vt_peers *p = vt_peers_new(4);
    ASSERT_TRUE(p != NULL);
    struct vt_peer_key a = v4("10.0.0.1"), b = v4("10.0.0.2");
    int c[6];
    ASSERT_EQ(vt_peers_count(p, &a), 0);
    ASSERT_EQ(vt_peers_add(p, &c[0], &a), 0);
    ASSERT_EQ(vt_peers_add(p, &c[1], &a), 0);
    ASSERT_EQ(vt_peers_add(p, &c[2], &b), 0);
    ASSERT_EQ(vt_peers_count(p, &a), 2);
    ASSERT_EQ(vt_peers_count(p, &b), 1);
    /* The same connection again (a reused pointer) moves, it is not counted twice. */
    ASSERT_EQ(vt_peers_add(p, &c[1], &b), 0);
    ASSERT_EQ(vt_peers_count(p, &a), 1);
    ASSERT_EQ(vt_peers_count(p, &b), 2);
    ASSERT_EQ(vt_peers_add(p, &c[3], &a), 0);
    ASSERT_TRUE(vt_peers_full(p));
    ASSERT_EQ(vt_peers_add(p, &c[4], &a), VT_ETOOBIG);
    ASSERT_EQ(vt_peers_count(p, &a), 2);
    vt_peers_remove(p, &c[5]); /* never added: nothing happens */
    ASSERT_EQ(vt_peers_total(p), 4);
    vt_peers_remove(p, &c[0]);
    vt_peers_remove(p, &c[3]);
    vt_peers_remove(p, &c[3]);
    ASSERT_EQ(vt_peers_count(p, &a), 0);
    ASSERT_EQ(vt_peers_count(p, &b), 2);
    ASSERT_EQ(vt_peers_total(p), 2);
    vt_peers_free(p);
    vt_peers_free(NULL);
}

/* Many connections from a few addresses, added and removed in a scrambled
 * order; after every step the counts match a plain model. */
static void test_churn(void)
{
    enum { CONNS = 3000, ADDRS = 37, STEPS = 60000 };
    struct vt_peers *p = vt_peers_new(CONNS);
    static char conns[CONNS];
    static int owner[CONNS]; /* address index + 1, 0 when not connected */
    int model[ADDRS] = {0};
    struct vt_peer_key keys[ADDRS];
    for (int i = 0; i < ADDRS; i++) {
        char ip[32];
        snprintf(ip, sizeof(ip), "198.51.100.%d", i + 1);
        keys[i] = v4(ip);
    }
    uint32_t seed = 12345;
    int bad = 0;
    size_t open = 0;
    for (int s = 0; s < STEPS; s++) {
        seed = seed * 1103515245u + 12345u;
        int c = (int)((seed >> 8) % CONNS);
        if (owner[c]) {
            model[owner[c] - 1]--;
            owner[c] = 0;
            vt_peers_remove(p, &conns[c]);
            open--;
        } else {
            int a = (int)((seed >> 20) % ADDRS);
            if (vt_peers_add(p, &conns[c], &keys[a]) != 0) {
                bad++;
                continue;
            }
            owner[c] = a + 1;
            model[a]++;
            open++;
        }
        if (s % 997 == 0)
            for (int a = 0; a < ADDRS; a++)
                bad += vt_peers_count(p, &keys[a]) != model[a];
    }
    for (int a = 0; a < ADDRS; a++)
        bad += vt_peers_count(p, &keys[a]) != model[a];
    ASSERT_EQ(bad, 0);
    ASSERT_EQ(vt_peers_total(p), open);
    for (int c = 0; c < CONNS; c++)
        vt_peers_remove(p, &conns[c]);
    ASSERT_EQ(vt_peers_total(p), 0);
    for (int a = 0; a < ADDRS; a++)
        ASSERT_EQ(vt_peers_count(p, &keys[a]), 0);
    vt_peers_free(p);
}

int main(void)
{
    test_keys();
    test_counts();
    test_churn();
    VT_TEST_END();
}
