/*
 * replay_main.c: runs a libFuzzer target over saved inputs without libFuzzer,
 * so that the corpus replays under gcc's sanitizers in `make test`.
 *
 * Usage: fuzz_<target> PATH...   (files, or directories of files)
 * Exits 0 when every input ran; a sanitizer report aborts the process.
 * An empty or missing corpus is an error: a replay that runs nothing would
 * be a test that cannot fail.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        return -1;
    }
    long n = ftell(f);
    rewind(f);
    if (n < 0) {
        fclose(f);
        return -1;
    }
    /* A private heap copy of exactly n bytes lets ASan catch any read past
     * the end of the input, which is the point of the exercise. */
    uint8_t *buf = malloc(n ? (size_t)n : 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        fclose(f);
        return -1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, (size_t)n);
    free(buf);
    return 0;
}

static long replay_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return replay_file(path) == 0 ? 1 : -1;
    DIR *d = opendir(path);
    if (!d)
        return -1;
    long count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        long r = replay_path(sub);
        if (r < 0) {
            closedir(d);
            return -1;
        }
        count += r;
    }
    closedir(d);
    return count;
}

int main(int argc, char **argv)
{
    long total = 0;
    for (int i = 1; i < argc; i++) {
        long r = replay_path(argv[i]);
        if (r < 0)
            return 1;
        total += r;
    }
    printf("replayed %ld inputs\n", total);
    return total > 0 ? 0 : 1;
}
