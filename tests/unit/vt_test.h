/* vt_test.h - a tiny assertion kit for the unit tests.
 *
 * Each ASSERT prints both sides on failure and counts it; a test binary ends
 * with VT_TEST_END(), which prints "N passed, N failed" and returns non-zero
 * when anything failed.
 */
#ifndef VT_TEST_H
#define VT_TEST_H
#include <stdio.h>
#include <string.h>

static int vt_test_passed, vt_test_failed;

#define VT_CHECK_(cond, ...)                                                                       \
    do {                                                                                           \
        if (cond) {                                                                                \
            vt_test_passed++;                                                                      \
        } else {                                                                                   \
            vt_test_failed++;                                                                      \
            fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                        \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
        }                                                                                          \
    } while (0)

#define ASSERT_TRUE(c) VT_CHECK_((c), "expected true: %s", #c)
#define ASSERT_EQ(a, b)                                                                            \
    do {                                                                                           \
        long long va_ = (long long)(a), vb_ = (long long)(b);                                      \
        VT_CHECK_(va_ == vb_, "%s == %s: %lld != %lld", #a, #b, va_, vb_);                         \
    } while (0)
#define ASSERT_STREQ(a, b)                                                                         \
    do {                                                                                           \
        const char *sa_ = (a), *sb_ = (b);                                                         \
        VT_CHECK_(sa_ && sb_ && strcmp(sa_, sb_) == 0, "%s == %s: \"%s\" != \"%s\"", #a, #b,       \
                  sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)");                                     \
    } while (0)

#define VT_TEST_END()                                                                              \
    do {                                                                                           \
        printf("%d passed, %d failed\n", vt_test_passed, vt_test_failed);                          \
        return vt_test_failed ? 1 : 0;                                                             \
    } while (0)

#endif
