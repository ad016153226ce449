/* The lifecycle on real libvirtd, with the Debian test image and a temporary storage pool:
 *   up --network user -> exec hostname -> exec 'exit 7' -> stop -> start -> exec -> delete,
 * then, through libvirt: no domain, no overlay, no seed volume; the base image unchanged.
 * A second workstation proves the outcomes: a timeout while waiting keeps it (exit 4, naming
 * the step), `wait` resumes, and cloud-init errors are printed with exit status 5. */
#include <glib/gstdio.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <string.h>
#include <unistd.h>

#include "tests/bed/bed.h"

/* Runs virt-station on qemu:///system with the arguments up to NULL. */
#define vs(...) vs_bed_run_vsv("qemu:///system", __VA_ARGS__)

typedef VsBedWorld Bed;

static void
bed_setup(Bed *bed)
{
    vs_bed_world_setup(bed, "vs-life", "vs-test");
}

static void
bed_teardown(Bed *bed)
{
    vs_bed_world_teardown(bed);
}

static char *
sha256_file(const char *path)
{
    g_autofree char *data = NULL;
    gsize len;

    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    return g_compute_checksum_for_data(G_CHECKSUM_SHA256, (guchar *)data, len);
}

/* Returns the names of the volumes of the test pool, sorted, joined by spaces. */
static char *
pool_volumes(Bed *bed)
{
    return vs_bed_pool_volumes(bed->conn, bed->pool);
}

static char *
domain_state(Bed *bed, const char *name)
{
    virDomainPtr dom = virDomainLookupByName(bed->conn, name);
    int state = -1, reason;

    if (!dom)
        return g_strdup("absent");
    virDomainGetState(dom, &state, &reason, 0);
    virDomainFree(dom);
    return g_strdup(state == VIR_DOMAIN_RUNNING   ? "running"
                    : state == VIR_DOMAIN_SHUTOFF ? "shut off"
                                                  : "other");
}

/* Serves the test image over HTTP on 127.0.0.1 with a SHA256SUMS beside it, and writes a
 * catalog that calls it debian:test. */
static void
serve_image(Bed *bed, VsBedHttp *http, const char *image_sum)
{
    g_autofree char *srv = g_build_filename(bed->dir, "srv", NULL);
    g_autofree char *link = g_build_filename(srv, "debian-test.qcow2", NULL);
    g_autofree char *sums = g_build_filename(srv, "SHA256SUMS", NULL);
    g_autofree char *list = g_strdup_printf("%s *debian-test.qcow2\n", image_sum);
    g_autofree char *log = g_build_filename(bed->dir, "requests.log", NULL);
    g_autofree char *config = g_build_filename(bed->dir, "XDG_CONFIG_HOME", "virt-station", NULL);
    g_autofree char *catalog = g_build_filename(config, "images.yaml", NULL);
    g_autofree char *yaml = NULL;

    g_mkdir_with_parents(srv, 0755);
    g_mkdir_with_parents(config, 0700);
    g_assert_cmpint(symlink(bed->image, link), ==, 0);
    g_assert_true(g_file_set_contents(sums, list, -1, NULL));
    vs_bed_http_start(http, srv, log, NULL, NULL);
    yaml = g_strdup_printf("\"debian:test\":\n  checksums-format: sha256sums\n  x86_64:\n"
                           "    url: %sdebian-test.qcow2\n    checksums: %sSHA256SUMS\n",
                           http->base, http->base);
    g_assert_true(g_file_set_contents(catalog, yaml, -1, NULL));
}

/* The whole lifecycle on one booted guest (a TCG boot costs about a minute): longer than a
 * function should be, because each step needs the state the ones before left. */
static void
test_lifecycle(void)
{
    Bed bed = {0};
    VsBedHttp http = {0};
    g_autofree char *name = g_strdup_printf("vs-life-%d", (int)getpid());
    g_autofree char *image_sum = NULL, *base_sum = NULL, *base_path = NULL;

    bed_setup(&bed);
    image_sum = sha256_file(bed.image);
    serve_image(&bed, &http, image_sum);

    /* The image by its alias: downloaded from the test server, verified, imported. */
    g_auto(VsBedRun) up = vs("up", name, "--image", "debian:test", "--pool", bed.pool, "--network",
                             "user", "--memory", "1024", "--timeout", "420", NULL);
    g_assert_cmpint(up.status, ==, 0);
    /* The GPU plan's reasons are kept with the workstation (this host has no GPU). */
    g_auto(VsBedRun) info = vs("info", name, "--json", NULL);
    g_assert_cmpint(info.status, ==, 0);
    g_assert_nonnull(strstr(info.out, "\"reasons\":[\"no vGPU available and no render node "
                                      "with a Mesa driver\"]"));
    g_autofree char *fetched = vs_bed_http_requests(&http, "debian-test.qcow2");
    g_assert_nonnull(strstr(fetched, "\"status\": 200"));
    g_assert_nonnull(strstr(up.out, "is ready"));
    g_assert_nonnull(strstr(up.err, "cloud-init finished"));

    /* The base volume with its completion marker, the overlay and the seed are in the pool;
     * note the base's content. */
    g_autofree char *vols = pool_volumes(&bed);
    g_autofree char *overlay = g_strdup_printf("%s.qcow2", name);
    g_autofree char *seed = g_strdup_printf("%s-seed.iso", name);
    g_assert_nonnull(strstr(vols, overlay));
    g_assert_nonnull(strstr(vols, seed));
    g_auto(GStrv) names = g_strsplit(vols, " ", -1);
    g_assert_cmpuint(g_strv_length(names), ==, 4);
    for (guint i = 0; names[i]; i++)
        if (strcmp(names[i], overlay) && strcmp(names[i], seed) &&
            !g_str_has_suffix(names[i], ".complete"))
            base_path = g_build_filename(bed.pool_dir, names[i], NULL);
    g_assert_nonnull(base_path);
    base_sum = sha256_file(base_path);
    g_assert_cmpstr(base_sum, ==, image_sum);
    /* Named after the alias and the content. */
    g_autofree char *base_name = g_path_get_basename(base_path);
    g_autofree char *expect_base = g_strdup_printf("debian-test-%.12s", image_sum);
    g_assert_cmpstr(base_name, ==, expect_base);
    /* Pruning keeps the image while the overlay uses it. */
    g_auto(VsBedRun) keep = vs("image", "prune", "--pool", bed.pool, NULL);
    g_assert_cmpint(keep.status, ==, 0);
    g_autofree char *kept = g_strdup_printf("kept %s", expect_base);
    g_assert_nonnull(strstr(keep.err, kept));
    g_autofree char *still = pool_volumes(&bed);
    g_assert_cmpstr(still, ==, vols);

    g_auto(VsBedRun) host = vs("exec", name, "--", "hostname", NULL);
    g_assert_cmpint(host.status, ==, 0);
    g_assert_cmpstr(g_strstrip(host.out), ==, name);
    g_auto(VsBedRun) seven = vs("exec", name, "--", "sh", "-c", "exit 7", NULL);
    g_assert_cmpint(seven.status, ==, 7);
    /* Arguments arrive as given, spaces and quotes included. */
    g_auto(VsBedRun) args = vs("exec", name, "--", "printf", "%s|", "a b", "c'd", NULL);
    g_assert_cmpstr(args.out, ==, "a b|c'd|");

    g_auto(VsBedRun) stop = vs("stop", name, NULL);
    g_assert_cmpint(stop.status, ==, 0);
    g_autofree char *stopped = domain_state(&bed, name);
    g_assert_cmpstr(stopped, ==, "shut off");
    g_auto(VsBedRun) start = vs("start", name, "--timeout", "420", NULL);
    g_assert_cmpint(start.status, ==, 0);
    /* The serial console through libvirt: Enter gives the getty's prompt, Ctrl-] leaves. */
    g_autofree char *console_cmd = g_strdup_printf(
        "(printf '\\n'; sleep 5; printf '\\035') | virt-station -c qemu:///system console %s",
        name);
    g_auto(VsBedRun) console = vs_bed_run((const char *const[]){"sh", "-c", console_cmd, NULL});
    g_assert_cmpint(console.status, ==, 0);
    g_autofree char *prompt = g_strdup_printf("%s login:", name);
    g_assert_nonnull(strstr(console.out, prompt));

    g_auto(VsBedRun) again = vs("exec", name, "--", "hostname", NULL);
    g_assert_cmpint(again.status, ==, 0);
    g_assert_cmpstr(g_strstrip(again.out), ==, name);

    g_auto(VsBedRun) del = vs("delete", name, NULL);
    g_assert_cmpint(del.status, ==, 0);
    g_autofree char *gone = domain_state(&bed, name);
    g_assert_cmpstr(gone, ==, "absent");
    g_autofree char *left = pool_volumes(&bed);
    g_autofree char *base_and_mark = g_strdup_printf("%s %s.complete", base_name, base_name);
    g_assert_cmpstr(left, ==, base_and_mark);
    g_autofree char *base_after = sha256_file(base_path);
    g_assert_cmpstr(base_after, ==, image_sum);
    g_autofree char *image_after = sha256_file(bed.image);
    g_assert_cmpstr(image_after, ==, image_sum);
    /* Now nothing uses the base: pruning removes it and the cached download. */
    g_auto(VsBedRun) prune = vs("image", "prune", "--pool", bed.pool, NULL);
    g_assert_cmpint(prune.status, ==, 0);
    g_autofree char *removed = g_strdup_printf("removed %s", expect_base);
    g_assert_nonnull(strstr(prune.out, removed));
    g_autofree char *after_prune = pool_volumes(&bed);
    g_assert_cmpstr(after_prune, ==, "");
    g_auto(VsBedRun) cached = vs("image", "list", "--json", "--pool", bed.pool, NULL);
    g_assert_cmpstr(g_strstrip(cached.out), ==, "{\"version\":1,\"images\":[],\"baked\":[]}");
    vs_bed_http_stop(&http);
    bed_teardown(&bed);
}

static void
test_timeout_wait_and_cloud_init_errors(void)
{
    Bed bed = {0};
    g_autofree char *name = g_strdup_printf("vs-fail-%d", (int)getpid());
    g_autofree char *user_data = NULL;

    bed_setup(&bed);
    user_data = g_build_filename(bed.dir, "user-data", NULL);
    g_assert_true(
        g_file_set_contents(user_data, "#cloud-config\nruncmd:\n  - [false]\n", -1, NULL));

    /* Far too short a wait: the workstation is kept, the step is named. */
    g_auto(VsBedRun) up =
        vs("up", name, "--image", bed.image, "--pool", bed.pool, "--network", "user", "--memory",
           "1024", "--user-data", user_data, "--timeout", "5", NULL);
    g_assert_cmpint(up.status, ==, 4);
    g_assert_nonnull(strstr(up.err, "timed out after 5 s waiting for sshd to answer"));
    g_assert_nonnull(strstr(up.err, "is kept"));
    g_autofree char *kept = domain_state(&bed, name);
    g_assert_cmpstr(kept, ==, "running");

    /* `wait` resumes, and reports cloud-init's errors with status 5. */
    g_auto(VsBedRun) wait = vs("wait", name, "--timeout", "420", NULL);
    g_assert_cmpint(wait.status, ==, 5);
    g_assert_nonnull(strstr(wait.err, "cloud-init finished with errors"));
    g_assert_nonnull(strstr(wait.err, "status: error"));
    g_assert_true(strstr(wait.err, "scripts_user") || strstr(wait.err, "scripts-user"));
    g_autofree char *still = domain_state(&bed, name);
    g_assert_cmpstr(still, ==, "running");

    g_auto(VsBedRun) del = vs("delete", name, NULL);
    g_assert_cmpint(del.status, ==, 0);
    g_autofree char *gone = domain_state(&bed, name);
    g_assert_cmpstr(gone, ==, "absent");
    bed_teardown(&bed);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/integration/lifecycle/up-exec-stop-start-delete", test_lifecycle);
    g_test_add_func("/integration/lifecycle/timeout-wait-cloud-init-errors",
                    test_timeout_wait_and_cloud_init_errors);
    return g_test_run();
}
