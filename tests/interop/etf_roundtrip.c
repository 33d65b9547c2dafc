/*
 * etf_roundtrip.c: re-encodes term_to_binary output with edist.
 *
 * Usage: etf_roundtrip DIR
 *   For every line "N kind" of DIR/manifest, reads DIR/N.bin, decodes it
 *   into a tree and writes DIR/N.t2b (term_to_binary atom mode, compressed
 *   when the input was) and DIR/N.dist (distribution UTF-8 atom mode, with
 *   a version byte so that binary_to_term reads it).
 *   For "nomap" terms it also checks that N.t2b equals N.bin byte for
 *   byte.  Along the way it checks that the streaming reader skips the
 *   whole term, that zero-copy decoding encodes the same bytes, and that
 *   edist_etf_encoded_size() is exact.
 * Exits 0 when every term passed; prints the first failure otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edist/edist.h"
#include "edist/etf.h"

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

static int spit(const char *path, const uint8_t *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    int rc = fwrite(b, 1, n, f) == n ? 0 : -1;
    return fclose(f) == 0 ? rc : -1;
}

static int fail(const char *n, const char *what, int rc)
{
    fprintf(stderr, "FAIL term %s: %s (%s)\n", n, what, edist_errname(rc));
    return 1;
}

static int one(const char *dir, const char *n, int nomap)
{
    char path[4096];
    size_t len;
    snprintf(path, sizeof path, "%s/%s.bin", dir, n);
    uint8_t *in = slurp(path, &len);
    if (!in)
        return fail(n, "cannot read input", 0);
    int compressed = len > 1 && in[1] == EDIST_ETF_COMPRESSED;
    edist_arena *a = edist_arena_new(NULL);
    edist_term t, tb;
    size_t used = 0;
    int rc = edist_etf_decode(a, in, len, NULL, &t, &used);
    int bad = 0;
    if (rc < 0 || used != len) {
        bad = fail(n, "decode", rc);
        goto out;
    }
    /* The streaming reader must walk the same bytes. */
    if (!compressed) {
        edist_etf_reader r;
        edist_etf_reader_init(&r, in, len, NULL, 0);
        if ((rc = edist_etf_read_version(&r)) < 0 ||
            (rc = edist_etf_skip(&r, 0)) < 0 || edist_etf_reader_left(&r)) {
            bad = fail(n, "skip", rc);
            goto out;
        }
    }
    edist_etf_encode_opts t2b = {.flags =
                                     EDIST_ETF_ATOMS_LATIN1 |
                                     (compressed ? EDIST_ETF_COMPRESS : 0)};
    edist_bytes o1 = {0}, o2 = {0}, o3 = {0};
    if ((rc = edist_etf_encode(&t, &t2b, &o1)) < 0) {
        bad = fail(n, "encode t2b", rc);
        goto out;
    }
    if (nomap && (o1.len != len || memcmp(o1.data, in, len) != 0)) {
        bad = fail(n, "t2b bytes differ from term_to_binary", 0);
        goto out2;
    }
    edist_etf_encode_opts dist = {0};
    size_t sz = 0;
    if ((rc = edist_etf_encode(&t, &dist, &o2)) < 0 ||
        (rc = edist_etf_encoded_size(&t, &dist, &sz)) < 0 || sz != o2.len) {
        bad = fail(n, "encode dist / size", rc);
        goto out2;
    }
    /* Zero-copy decoding must encode the same bytes. */
    edist_etf_decode_opts borrow = {.flags = EDIST_ETF_BORROW};
    if ((rc = edist_etf_decode(a, in, len, &borrow, &tb, NULL)) < 0 ||
        (rc = edist_etf_encode(&tb, &dist, &o3)) < 0 || o3.len != o2.len ||
        memcmp(o3.data, o2.data, o2.len) != 0) {
        bad = fail(n, "borrowed decode differs", rc);
        goto out2;
    }
    snprintf(path, sizeof path, "%s/%s.t2b", dir, n);
    if (spit(path, o1.data, o1.len) < 0)
        bad = fail(n, "write t2b", 0);
    snprintf(path, sizeof path, "%s/%s.dist", dir, n);
    if (spit(path, o2.data, o2.len) < 0)
        bad = fail(n, "write dist", 0);
out2:
    edist_bytes_free(&o1);
    edist_bytes_free(&o2);
    edist_bytes_free(&o3);
out:
    edist_arena_free(a);
    free(in);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: etf_roundtrip DIR\n");
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest", argv[1]);
    FILE *m = fopen(path, "r");
    if (!m) {
        perror(path);
        return 2;
    }
    char n[64], kind[16];
    long count = 0, exact = 0;
    int bad = 0;
    while (fscanf(m, "%63s %15s", n, kind) == 2) {
        int nomap = strcmp(kind, "nomap") == 0;
        if (one(argv[1], n, nomap)) {
            bad = 1;
            break;
        }
        count++;
        exact += nomap;
    }
    fclose(m);
    printf("re-encoded %ld terms, %ld byte-exact\n", count, exact);
    return bad || count == 0;
}
