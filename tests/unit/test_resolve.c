/* test_resolve.c: literal addresses turned into socket addresses without
 * the resolver; names left to getaddrinfo(). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rt/resolve.h"

static void test_ipv4(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    socklen_t len = 0;
    assert_int_equal(rt_numeric_addr("10.1.2.3", 4369, &ss, &len), 1);
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;
    assert_int_equal(len, sizeof *s4);
    assert_int_equal(s4->sin_family, AF_INET);
    assert_int_equal(ntohs(s4->sin_port), 4369);
    assert_int_equal(ntohl(s4->sin_addr.s_addr), 0x0a010203u);
}

static void test_ipv6(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    socklen_t len = 0;
    assert_int_equal(rt_numeric_addr("::1", 65535, &ss, &len), 1);
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;
    assert_int_equal(len, sizeof *s6);
    assert_int_equal(s6->sin6_family, AF_INET6);
    assert_int_equal(ntohs(s6->sin6_port), 65535);
    assert_true(IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr));
    assert_int_equal(rt_numeric_addr("fd00::1:2", 1, &ss, &len), 1);
}

/* Names, scoped addresses and near-literals go to the resolver. */
static void test_not_literal(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    socklen_t len = 0;
    const char *names[] = {"localhost",  "host.example", "",
                           "1.2.3",      "1.2.3.4.5",    "256.1.1.1",
                           "fe80::1%lo", "127.0.0.1 ",   "[::1]"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        assert_int_equal(rt_numeric_addr(names[i], 1, &ss, &len), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_not_literal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
