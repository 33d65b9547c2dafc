/* test_cookie.c: cookie lookup like OTP's auth.erl, in a temporary HOME. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "edist/cookie.h"
#include "edist/edist.h"

static char home[256], xdg[300];

static int setup(void **state)
{
    (void)state;
    snprintf(home, sizeof home, "/tmp/edist-cookie-XXXXXX");
    if (!mkdtemp(home))
        return -1;
    snprintf(xdg, sizeof xdg, "%s/xdg", home);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "chmod -R u+rwx '%s'; rm -rf '%s'", home, home);
    return system(cmd) == 0 ? 0 : -1;
}

static void put_file(const char *path, const char *content, size_t n,
                     mode_t mode)
{
    unlink(path);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(content, 1, n, f), n);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static int resolve(const char *h, const char *x, edist_cookie *c)
{
    edist_cookie_options o = {0};
    o.home = h;
    o.xdg_config_home = x;
    return edist_cookie_resolve(&o, c);
}

static void home_file(char *out, size_t n)
{
    snprintf(out, n, "%s/.erlang.cookie", home);
}

static void test_explicit(void **state)
{
    (void)state;
    edist_cookie c;
    edist_cookie_options o = {0};
    o.cookie = "monster";
    assert_int_equal(edist_cookie_resolve(&o, &c), 0);
    assert_string_equal(c.value, "monster");
    assert_int_equal(c.len, 7);
    assert_string_equal(c.path, "");
    o.cookie = "";
    assert_int_equal(edist_cookie_resolve(&o, &c), EDIST_EINVAL);
    o.cookie = "a\nb";
    assert_int_equal(edist_cookie_resolve(&o, &c), EDIST_EINVAL);
    char big[300];
    memset(big, 'a', sizeof big - 1);
    big[299] = 0;
    o.cookie = big;
    assert_int_equal(edist_cookie_resolve(&o, &c), EDIST_EINVAL);
    edist_cookie_wipe(&c);
}

static void test_home_file_content(void **state)
{
    (void)state;
    char p[512];
    home_file(p, sizeof p);
    edist_cookie c;
    put_file(p, "SECRET\n", 7, 0400);
    assert_int_equal(resolve(home, xdg, &c), 0);
    assert_string_equal(c.value, "SECRET");
    assert_string_equal(c.path, p);
    assert_int_equal(c.created, 0);
    /* Spaces before the newline belong to the cookie; after the first
     * non-printable byte only \n, \r and space may follow. */
    put_file(p, "ab c  \r\n \n", 10, 0600);
    assert_int_equal(resolve(home, xdg, &c), 0);
    assert_string_equal(c.value, "ab c  ");
    put_file(p, "abc\nxyz", 7, 0400);
    assert_int_equal(resolve(home, xdg, &c), EDIST_ECOOKIEFILE);
    assert_non_null(strstr(c.error, "Bad characters"));
    assert_non_null(strstr(c.error, p));
    put_file(p, "\n", 1, 0400);
    assert_int_equal(resolve(home, xdg, &c), EDIST_ECOOKIEFILE);
    assert_non_null(strstr(c.error, "Too short"));
    put_file(p, "", 0, 0400);
    assert_int_equal(resolve(home, xdg, &c), EDIST_ECOOKIEFILE);
    put_file(p, "abc\tdef", 7, 0400);
    assert_int_equal(resolve(home, xdg, &c), EDIST_ECOOKIEFILE);
    char big[300];
    memset(big, 'A', sizeof big);
    put_file(p, big, sizeof big, 0400);
    assert_int_equal(resolve(home, xdg, &c), EDIST_ECOOKIEFILE);
    assert_non_null(strstr(c.error, "longer"));
    unlink(p);
}

static void test_permissions(void **state)
{
    (void)state;
    char p[512];
    home_file(p, sizeof p);
    edist_cookie c;
    mode_t bad[] = {0644, 0440, 0404, 0600 | 0002};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        put_file(p, "SECRET", 6, bad[i]);
        assert_int_equal(resolve(home, xdg, &c), EDIST_ECOOKIEFILE);
        assert_non_null(strstr(c.error, "accessible by owner only"));
        assert_int_equal(c.len, 0);
        assert_string_equal(c.value, "");
    }
    unlink(p);
    /* Not a regular file: a directory, a FIFO (must not block us). */
    assert_int_equal(mkdir(p, 0700), 0);
    assert_int_equal(resolve(home, xdg, &c), EDIST_ECOOKIEFILE);
    assert_non_null(strstr(c.error, "not a regular file"));
    rmdir(p);
    assert_int_equal(mkfifo(p, 0600), 0);
    assert_int_equal(resolve(home, xdg, &c), EDIST_ECOOKIEFILE);
    assert_non_null(strstr(c.error, "not a regular file"));
    unlink(p);
}

static void test_xdg(void **state)
{
    (void)state;
    char dir[512], p[600];
    edist_cookie c;
    snprintf(dir, sizeof dir, "%s/erlang", xdg);
    mkdir(xdg, 0700);
    mkdir(dir, 0700);
    snprintf(p, sizeof p, "%s/.erlang.cookie", dir);
    put_file(p, "XDGCOOKIE", 9, 0400);
    assert_int_equal(resolve(home, xdg, &c), 0);
    assert_string_equal(c.value, "XDGCOOKIE");
    assert_string_equal(c.path, p);
    /* Without XDG_CONFIG_HOME the default is ~/.config/erlang. */
    char cfg[512], p2[600];
    snprintf(cfg, sizeof cfg, "%s/.config", home);
    mkdir(cfg, 0700);
    snprintf(cfg, sizeof cfg, "%s/.config/erlang", home);
    mkdir(cfg, 0700);
    snprintf(p2, sizeof p2, "%s/.erlang.cookie", cfg);
    put_file(p2, "CFGCOOKIE", 9, 0400);
    assert_int_equal(resolve(home, "", &c), 0);
    assert_string_equal(c.value, "CFGCOOKIE");
    /* The home file wins over both. */
    char hp[512];
    home_file(hp, sizeof hp);
    put_file(hp, "HOMECOOKIE", 10, 0400);
    assert_int_equal(resolve(home, xdg, &c), 0);
    assert_string_equal(c.value, "HOMECOOKIE");
    /* A broken XDG file is an error, not a reason to create one. */
    unlink(hp);
    put_file(p, "XDGCOOKIE", 9, 0644);
    assert_int_equal(resolve(home, xdg, &c), EDIST_ECOOKIEFILE);
    assert_int_equal(access(hp, F_OK), -1);
    unlink(p);
    unlink(p2);
    /* No HOME: the XDG path is read, then created. */
    assert_int_equal(resolve("", xdg, &c), 0);
    assert_int_equal(c.created, 1);
    assert_string_equal(c.path, p);
    unlink(p);
    assert_int_equal(resolve("", "", &c), EDIST_ECOOKIEFILE);
    assert_non_null(strstr(c.error, "No home"));
}

static void test_create(void **state)
{
    (void)state;
    char p[512];
    home_file(p, sizeof p);
    unlink(p);
    edist_cookie c, c2;
    assert_int_equal(resolve(home, xdg, &c), 0);
    assert_int_equal(c.created, 1);
    assert_string_equal(c.path, p);
    assert_int_equal(c.len, 20);
    for (size_t i = 0; i < 20; i++)
        assert_true(c.value[i] >= 'A' && c.value[i] <= 'Z');
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0400);
    assert_int_equal(st.st_size, 20);
    /* Created at midnight as far as the file times tell. */
    assert_int_equal(st.st_mtime % 60, 0);
    assert_int_equal(resolve(home, xdg, &c2), 0);
    assert_int_equal(c2.created, 0);
    assert_string_equal(c.value, c2.value);
    /* Two fresh cookies differ (CSPRNG, 26^20 possibilities). */
    unlink(p);
    assert_int_equal(resolve(home, xdg, &c2), 0);
    assert_string_not_equal(c.value, c2.value);
    unlink(p);
    /* A HOME we cannot write to gives a clear error. */
    char ro[512];
    snprintf(ro, sizeof ro, "%s/nowhere/deeper", home);
    assert_int_equal(resolve(ro, xdg, &c), EDIST_ECOOKIEFILE);
    assert_non_null(strstr(c.error, "Failed to create"));
}

static void test_random(void **state)
{
    (void)state;
    uint8_t a[64] = {0}, b[64] = {0};
    assert_int_equal(edist_random_bytes(a, sizeof a), 0);
    assert_int_equal(edist_random_bytes(b, sizeof b), 0);
    assert_memory_not_equal(a, b, sizeof a);
    uint32_t x, y;
    assert_int_equal(edist_random_challenge(&x), 0);
    assert_int_equal(edist_random_challenge(&y), 0);
    uint32_t z;
    assert_int_equal(edist_random_challenge(&z), 0);
    assert_false(x == y && y == z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_explicit),
        cmocka_unit_test(test_home_file_content),
        cmocka_unit_test(test_permissions),
        cmocka_unit_test(test_xdg),
        cmocka_unit_test(test_create),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
