#include "tests/bed/bed.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "vs-config.h"

static char *
ensure_bed(const char *arg, GError **error)
{
    g_autofree char *script =
        g_build_filename(VS_SOURCE_DIR, "tests", "bed", "ensure-bed.sh", NULL);
    const char *argv[] = {script, arg, NULL};
    g_autofree char *out = NULL;
    int status;

    /* stderr passes through: the image build reports its progress in the test log. */
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL, &out,
                      NULL, &status, error))
        return NULL;
    if (!g_spawn_check_wait_status(status, error)) {
        g_prefix_error(error, "tests/bed/ensure-bed.sh failed (see above): ");
        return NULL;
    }
    return g_strstrip(g_steal_pointer(&out));
}

gboolean
vs_bed_daemons(GError **error)
{
    g_autofree char *out = ensure_bed("--daemons", error);
    return out != NULL;
}

char *
vs_bed_image(GError **error)
{
    g_autofree char *out = ensure_bed(NULL, error);

    if (!out)
        return NULL;
    if (!g_file_test(out, G_FILE_TEST_IS_REGULAR)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "ensure-bed.sh named '%s', which is no file", out);
        return NULL;
    }
    return g_steal_pointer(&out);
}

char *
vs_bed_keypair(const char *dir, GError **error)
{
    g_autofree char *key = g_build_filename(dir, "id", NULL);
    const char *argv[] = {"ssh-keygen",        "-q", "-t", "ed25519", "-N", "", "-C",
                          "virt-station-test", "-f", key,  NULL};
    int status;

    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                      &status, error) ||
        !g_spawn_check_wait_status(status, error)) {
        g_prefix_error(error, "ssh-keygen: ");
        return NULL;
    }
    return g_steal_pointer(&key);
}

gboolean
vs_bed_is_loopback(const char *host)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG};
    struct addrinfo *res = NULL;
    gboolean loopback = TRUE;

    hints.ai_flags = 0;
    if (getaddrinfo(host, NULL, &hints, &res) != 0)
        return FALSE;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET) {
            const struct sockaddr_in *sin = (const struct sockaddr_in *)ai->ai_addr;
            loopback &= (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
        } else if (ai->ai_family == AF_INET6) {
            const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ai->ai_addr;
            loopback &= IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
        } else {
            loopback = FALSE;
        }
    }
    freeaddrinfo(res);
    return loopback;
}

void
vs_bed_assert_loopback(const char *host)
{
    if (!vs_bed_is_loopback(host))
        g_error("test tried to connect to %s, which is not loopback: tests may connect only to "
                "127.0.0.0/8 and ::1 (README, Development)",
                host);
}

guint16
vs_bed_free_port(void)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), ==, 0);
    g_assert_cmpint(getsockname(fd, (struct sockaddr *)&sin, &len), ==, 0);
    close(fd);
    return ntohs(sin.sin_port);
}

gboolean
vs_bed_ssh(const char *host, guint16 port, const char *user, const char *key, const char *command,
           char **ret_stdout, char **ret_stderr, int *ret_status, GError **error)
{
    g_autofree char *port_str = g_strdup_printf("%u", port);
    g_autofree char *dest = g_strdup_printf("%s@%s", user, host);
    /* Host keys are not checked here: the guest is a throwaway on loopback. The product's own
     * ssh/exec verify them. */
    const char *argv[] = {"ssh",
                          "-i",
                          key,
                          "-p",
                          port_str,
                          "-o",
                          "BatchMode=yes",
                          "-o",
                          "IdentitiesOnly=yes",
                          "-o",
                          "StrictHostKeyChecking=no",
                          "-o",
                          "UserKnownHostsFile=/dev/null",
                          "-o",
                          "LogLevel=ERROR",
                          "-o",
                          "ConnectTimeout=10",
                          "--",
                          dest,
                          command,
                          NULL};
    int status;

    vs_bed_assert_loopback(host);
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDIN_FROM_DEV_NULL,
                      NULL, NULL, ret_stdout, ret_stderr, &status, error))
        return FALSE;
    *ret_status = WIFEXITED(status) ? WEXITSTATUS(status) : 255;
    return TRUE;
}

static char *
tail_lines(const char *path, guint n)
{
    g_autofree char *text = NULL;
    const char *p;
    guint seen = 0;

    if (!path || !g_file_get_contents(path, &text, NULL, NULL))
        return g_strdup("(no console log)");
    p = text + strlen(text);
    while (p > text && seen <= n) {
        p--;
        if (*p == '\n')
            seen++;
    }
    return g_strdup(p);
}

gboolean
vs_bed_wait_ssh(const char *host, guint16 port, const char *user, const char *key, guint timeout_s,
                const char *console_log, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
    g_autofree char *last = g_strdup("no attempt finished");

    vs_bed_assert_loopback(host);
    do {
        g_autofree char *out = NULL, *err = NULL;
        int status = 255;
        if (!vs_bed_ssh(host, port, user, key, "true", &out, &err, &status, error))
            return FALSE;
        if (status == 0)
            return TRUE;
        g_free(last);
        last = g_strdup_printf("ssh exit %d: %s", status, g_strstrip(err));
        g_usleep(2 * G_USEC_PER_SEC);
    } while (g_get_monotonic_time() < deadline);

    g_autofree char *console = tail_lines(console_log, 25);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                "guest never became reachable: SSH as %s to %s port %u did not succeed within "
                "%u s (last attempt: %s)\n--- last lines of the serial console ---\n%s",
                user, host, port, timeout_s, last, console);
    return FALSE;
}

char *
vs_bed_tmpdir(const char *prefix)
{
    g_autofree char *template = g_strdup_printf("/var/tmp/%s-XXXXXX", prefix);
    char *dir = g_mkdtemp_full(template, 0755);

    g_assert_nonnull(dir);
    g_steal_pointer(&template);
    return dir;
}

void
vs_bed_rmtree(const char *path)
{
    const char *argv[] = {"rm", "-rf", "--one-file-system", path, NULL};

    if (path && g_str_has_prefix(path, "/var/tmp/"))
        g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                     NULL);
}

void
vs_bed_run_clear(VsBedRun *run)
{
    g_clear_pointer(&run->out, g_free);
    g_clear_pointer(&run->err, g_free);
}

const char *
vs_bed_virt_type(void)
{
    const char *cache = g_getenv("VS_TESTBED_CACHE");
    g_autofree char *path = g_build_filename(
        cache && *cache ? cache : "/var/cache/virt-station-testbed", "kvm-decision", NULL);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return NULL;
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        if (g_str_equal(lines[i], "virt-type=kvm"))
            return "kvm";
        if (g_str_equal(lines[i], "virt-type=qemu"))
            return "qemu";
    }
    return NULL;
}

char **
vs_bed_argv_with_virt_type(const char *const *argv)
{
    GPtrArray *out = g_ptr_array_new();
    const char *virt_type = vs_bed_virt_type();
    gboolean command_seen = FALSE, given = FALSE;

    for (guint i = 0; argv[i] && !g_str_equal(argv[i], "--"); i++)
        if (g_str_has_prefix(argv[i], "--virt-type"))
            given = TRUE;
    for (guint i = 0; argv[i]; i++) {
        g_ptr_array_add(out, g_strdup(argv[i]));
        if (i == 0 || command_seen)
            continue;
        /* The command is the first word that is no option and no option's value. */
        if ((g_str_equal(argv[i], "-c") || g_str_equal(argv[i], "--connect")) && argv[i + 1]) {
            g_ptr_array_add(out, g_strdup(argv[++i]));
            continue;
        }
        if (argv[i][0] == '-')
            continue;
        command_seen = TRUE;
        if (virt_type && !given && g_str_has_suffix(argv[0], "virt-station") &&
            g_str_equal(argv[i], "up")) {
            g_ptr_array_add(out, g_strdup("--virt-type"));
            g_ptr_array_add(out, g_strdup(virt_type));
        }
    }
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_free(out, FALSE);
}

VsBedRun
vs_bed_run(const char *const *args)
{
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) argv = vs_bed_argv_with_virt_type(args);
    VsBedRun r = {0};
    int status;

    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDIN_FROM_DEV_NULL,
                      NULL, NULL, &r.out, &r.err, &status, &error))
        g_error("running %s: %s", argv[0], error->message);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    g_test_message("%s %s -> %d\n%s%s", argv[0], argv[1] ? argv[1] : "", r.status, r.out, r.err);
    return r;
}

VsBedRun
vs_bed_run_vs(const char *uri, const char *const *args)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();

    g_ptr_array_add(argv, (char *)"virt-station");
    if (uri) {
        g_ptr_array_add(argv, (char *)"-c");
        g_ptr_array_add(argv, (char *)uri);
    }
    for (guint i = 0; args[i]; i++)
        g_ptr_array_add(argv, (char *)args[i]);
    g_ptr_array_add(argv, NULL);
    return vs_bed_run((const char *const *)argv->pdata);
}

VsBedRun
vs_bed_run_vsv(const char *uri, const char *first, ...)
{
    g_autoptr(GPtrArray) args = g_ptr_array_new();
    va_list ap;

    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *))
        g_ptr_array_add(args, (char *)a);
    va_end(ap);
    g_ptr_array_add(args, NULL);
    return vs_bed_run_vs(uri, (const char *const *)args->pdata);
}

void
vs_bed_http_start(VsBedHttp *http, const char *dir, const char *log, const char *const *cut,
                  const char *const *slow)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *script =
        g_build_filename(VS_SOURCE_DIR, "tests", "bed", "range-server.py", NULL);
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GDataInputStream) in = NULL;
    g_autofree char *line = NULL;
    guint64 port;

    g_ptr_array_add(argv, (char *)"python3");
    g_ptr_array_add(argv, script);
    g_ptr_array_add(argv, (char *)dir);
    g_ptr_array_add(argv, (char *)log);
    for (guint i = 0; cut && cut[i]; i++) {
        g_ptr_array_add(argv, (char *)"--cut");
        g_ptr_array_add(argv, (char *)cut[i]);
    }
    for (guint i = 0; slow && slow[i]; i++) {
        g_ptr_array_add(argv, (char *)"--slow");
        g_ptr_array_add(argv, (char *)slow[i]);
    }
    g_ptr_array_add(argv, NULL);
    http->proc =
        g_subprocess_newv((const char *const *)argv->pdata,
                          G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
    g_assert_no_error(error);
    in = g_data_input_stream_new(g_subprocess_get_stdout_pipe(http->proc));
    line = g_data_input_stream_read_line(in, NULL, NULL, &error);
    g_assert_no_error(error);
    g_assert_nonnull(line);
    g_assert_true(g_ascii_string_to_unsigned(line, 10, 1, 65535, &port, NULL));
    http->port = (guint16)port;
    http->log = g_strdup(log);
    http->base = g_strdup_printf("http://127.0.0.1:%u/", http->port);
}

void
vs_bed_http_stop(VsBedHttp *http)
{
    if (http->proc) {
        g_subprocess_force_exit(http->proc);
        g_subprocess_wait(http->proc, NULL, NULL);
        g_clear_object(&http->proc);
    }
    g_clear_pointer(&http->log, g_free);
    g_clear_pointer(&http->base, g_free);
}

char *
vs_bed_http_requests(const VsBedHttp *http, const char *name)
{
    g_autofree char *text = NULL;
    g_autofree char *needle = g_strdup_printf("\"path\": \"/%s\"", name);
    GString *out = g_string_new(NULL);

    /* The server logs a request after its last byte: give it a moment to write. */
    g_usleep(G_USEC_PER_SEC / 5);
    g_file_get_contents(http->log, &text, NULL, NULL);
    g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);
    for (guint i = 0; lines[i]; i++)
        if (strstr(lines[i], needle))
            g_string_append_printf(out, "%s\n", lines[i]);
    return g_string_free(out, FALSE);
}

static gint
by_string(gconstpointer a, gconstpointer b)
{
    return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

char *
vs_bed_pool_volumes(virConnectPtr conn, const char *pool_name)
{
    virStoragePoolPtr pool = virStoragePoolLookupByName(conn, pool_name);
    virStorageVolPtr *vols = NULL;
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    int n;

    g_assert_nonnull(pool);
    virStoragePoolRefresh(pool, 0);
    n = virStoragePoolListAllVolumes(pool, &vols, 0);
    for (int i = 0; i < n; i++) {
        g_ptr_array_add(names, g_strdup(virStorageVolGetName(vols[i])));
        virStorageVolFree(vols[i]);
    }
    free(vols);
    virStoragePoolFree(pool);
    g_ptr_array_sort(names, by_string);
    g_ptr_array_add(names, NULL);
    return g_strjoinv(" ", (char **)names->pdata);
}

static void
ignore_libvirt_error(void *opaque, virErrorPtr err)
{
}

void
vs_bed_world_setup(VsBedWorld *bed, const char *dir_prefix, const char *pool_prefix)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = NULL;
    virStoragePoolPtr pool;

    bed->image = vs_bed_image(&error);
    g_assert_no_error(error);
    bed->dir = vs_bed_tmpdir(dir_prefix);
    bed->pool_dir = vs_bed_tmpdir("vs-pool");
    bed->pool = g_strdup_printf("%s-%d", pool_prefix, (int)getpid());
    for (const char *const *v = (const char *const[]){"XDG_DATA_HOME", "XDG_CACHE_HOME",
                                                      "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", NULL};
         *v; v++) {
        g_autofree char *path = g_build_filename(bed->dir, *v, NULL);
        g_mkdir_with_parents(path, 0700);
        g_setenv(*v, path, TRUE);
    }
    virSetErrorFunc(NULL, ignore_libvirt_error);
    /* libvirtd may have been restarted by a test before (bed-kvm): running again first. */
    g_assert_true(vs_bed_daemons(&error));
    bed->conn = virConnectOpen("qemu:///system");
    g_assert_nonnull(bed->conn);
    xml = g_markup_printf_escaped("<pool type='dir'><name>%s</name><target><path>%s</path>"
                                  "</target></pool>",
                                  bed->pool, bed->pool_dir);
    pool = virStoragePoolCreateXML(bed->conn, xml, 0);
    if (!pool)
        g_error("creating the test pool: %s", virGetLastErrorMessage());
    virStoragePoolFree(pool);
}

void
vs_bed_world_teardown(VsBedWorld *bed)
{
    virStoragePoolPtr pool = virStoragePoolLookupByName(bed->conn, bed->pool);

    if (pool) {
        virStorageVolPtr *vols = NULL;
        int n = virStoragePoolListAllVolumes(pool, &vols, 0);
        for (int i = 0; i < n; i++) {
            virStorageVolDelete(vols[i], 0);
            virStorageVolFree(vols[i]);
        }
        free(vols);
        virStoragePoolDestroy(pool);
        virStoragePoolFree(pool);
    }
    virConnectClose(bed->conn);
    vs_bed_rmtree(bed->dir);
    vs_bed_rmtree(bed->pool_dir);
    g_free(bed->dir);
    g_free(bed->pool_dir);
    g_free(bed->pool);
    g_free(bed->image);
}

void
vs_bed_pool_remove(virConnectPtr conn, const char *pool_name, const char *const *names)
{
    virStoragePoolPtr p = virStoragePoolLookupByName(conn, pool_name);
    virStorageVolPtr *vols = NULL;
    int n;

    for (guint i = 0; names && names[i]; i++) {
        virDomainPtr dom = virDomainLookupByName(conn, names[i]);
        if (!dom)
            continue;
        virDomainDestroy(dom);
        virDomainUndefineFlags(dom, VIR_DOMAIN_UNDEFINE_NVRAM);
        virDomainFree(dom);
    }
    g_assert_nonnull(p);
    virStoragePoolRefresh(p, 0);
    n = virStoragePoolListAllVolumes(p, &vols, 0);
    for (int i = 0; i < n; i++) {
        virStorageVolDelete(vols[i], 0);
        virStorageVolFree(vols[i]);
    }
    free(vols);
    virStoragePoolDestroy(p);
    virStoragePoolFree(p);
}
