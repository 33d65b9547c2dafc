/*
 * test_linksm.c: the link state machine with the unlink protocol
 * (proto/linksm.h): linking, unlinking with ids, acknowledgements, exit
 * signals while unlinking, simultaneous unlinks, relinking.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "proto/linksm.h"

static void test_link_then_exit(void **state)
{
    (void)state;
    edist_linksm s = {0, 0};
    assert_int_equal(edist_linksm_link(&s), EDIST_LSM_SEND_LINK);
    assert_true(s.exists);
    /* linking twice is one link */
    assert_int_equal(edist_linksm_link(&s), 0);
    assert_int_equal(edist_linksm_recv_exit(&s),
                     EDIST_LSM_DELIVER_EXIT | EDIST_LSM_DROP);
    assert_false(s.exists);
    /* no link: an exit is not delivered */
    assert_int_equal(edist_linksm_recv_exit(&s), 0);
}

static void test_recv_link(void **state)
{
    (void)state;
    edist_linksm s = {0, 0};
    assert_int_equal(edist_linksm_recv_link(&s), 0);
    assert_true(s.exists);
    assert_int_equal(edist_linksm_local_exit(&s),
                     EDIST_LSM_SEND_EXIT | EDIST_LSM_DROP);
    assert_false(s.exists);
}

static void test_unlink_ack(void **state)
{
    (void)state;
    edist_linksm s = {0, 0};
    edist_linksm_link(&s);
    assert_int_equal(edist_linksm_unlink(&s, 7), EDIST_LSM_SEND_UNLINK_ID);
    assert_int_equal(s.unlink_id, 7);
    /* a second unlink while the first is outstanding sends nothing */
    assert_int_equal(edist_linksm_unlink(&s, 8), 0);
    assert_int_equal(s.unlink_id, 7);
    /* an exit signal through a link being unlinked is ignored */
    assert_int_equal(edist_linksm_recv_exit(&s), 0);
    assert_true(s.exists);
    /* a LINK while unlinking is ignored */
    assert_int_equal(edist_linksm_recv_link(&s), 0);
    assert_int_equal(s.unlink_id, 7);
    /* a stale ack removes nothing */
    assert_int_equal(edist_linksm_recv_ack(&s, 6), 0);
    assert_true(s.exists);
    /* our process ending while unlinking sends no exit */
    edist_linksm t = s;
    assert_int_equal(edist_linksm_local_exit(&t), EDIST_LSM_DROP);
    /* nor does the connection going down deliver noconnection */
    t = s;
    assert_int_equal(edist_linksm_conn_down(&t), EDIST_LSM_DROP);
    /* the matching ack removes the state */
    assert_int_equal(edist_linksm_recv_ack(&s, 7), EDIST_LSM_DROP);
    assert_false(s.exists);
}

static void test_peer_unlinks(void **state)
{
    (void)state;
    edist_linksm s = {0, 0};
    edist_linksm_link(&s);
    assert_int_equal(edist_linksm_recv_unlink(&s),
                     EDIST_LSM_SEND_ACK | EDIST_LSM_DROP);
    assert_false(s.exists);
    /* an UNLINK_ID for a link we do not have is still acknowledged */
    assert_int_equal(edist_linksm_recv_unlink(&s),
                     EDIST_LSM_SEND_ACK | EDIST_LSM_DROP);
}

static void test_both_unlink(void **state)
{
    (void)state;
    edist_linksm s = {0, 0};
    edist_linksm_link(&s);
    edist_linksm_unlink(&s, 3);
    /* the peer's UNLINK_ID crosses ours: acknowledge, keep waiting */
    assert_int_equal(edist_linksm_recv_unlink(&s), EDIST_LSM_SEND_ACK);
    assert_true(s.exists);
    assert_int_equal(edist_linksm_recv_ack(&s, 3), EDIST_LSM_DROP);
    assert_false(s.exists);
}

static void test_relink_while_unlinking(void **state)
{
    (void)state;
    edist_linksm s = {0, 0};
    edist_linksm_link(&s);
    edist_linksm_unlink(&s, 9);
    assert_int_equal(edist_linksm_link(&s), EDIST_LSM_SEND_LINK);
    assert_int_equal(s.unlink_id, 0);
    /* the old ack no longer removes the active link */
    assert_int_equal(edist_linksm_recv_ack(&s, 9), 0);
    assert_true(s.exists);
    /* and exits are delivered again */
    assert_int_equal(edist_linksm_conn_down(&s),
                     EDIST_LSM_DELIVER_EXIT | EDIST_LSM_DROP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_link_then_exit),
        cmocka_unit_test(test_recv_link),
        cmocka_unit_test(test_unlink_ack),
        cmocka_unit_test(test_peer_unlinks),
        cmocka_unit_test(test_both_unlink),
        cmocka_unit_test(test_relink_while_unlinking),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
