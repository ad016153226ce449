/* The request flags `up` and `run` share: their values (VsUpOptions), their table entries and how
 * they become a VsSpec (a spec file, then the flags over it, then config.yaml's defaults). */
#pragma once

#include "provisioner/commands.h"
#include "provisioner/spec.h"

typedef struct {
    char *spec_file;
    char *name;
    char *image;
    char *image_sha256;
    char *cpus;
    char *memory;
    char *disk;
    char *instance_type;
    char *network;
    char *gpu;
    char *gpu_memory;
    char *display;
    char *user;
    char **ssh_keys;
    char *user_data;
    char *network_config;
    char *seed_device;
    char *seed_from;
    char *arch;
    char *firmware;
    char *virt_type;
    char *mac;
    char *pool;
    char *osinfo;
    char *identity;
    gboolean dry_run;
    gboolean print_xml;
    gboolean no_wait;
    gboolean require_signature;
    int timeout;
} VsUpOptions;

/* Frees what the parse put into @o. */
void vs_up_options_clear(VsUpOptions *o);

/* Returns TRUE after loading @o's spec file (when given) into @spec, setting the flags @o gives
 * over it and config.yaml's defaults under both; FALSE with @error set (exit status 2 for a bad
 * value). Steals the strings it uses from @o. */
/* Parses @text, a --cpus value (1 to 4096), into @ret_cpus; FALSE with @error set (the spec
 * error INVALID) otherwise. `up`, `run` and `bake` share it. */
gboolean vs_up_parse_cpus(const char *text, guint *ret_cpus, GError **error);

gboolean vs_up_options_to_spec(VsUpOptions *o, VsSpec *spec, GError **error);

extern const char *const vs_up_gpu_words[], *const vs_up_network_words[],
                                                *const vs_up_display_words[],
                                                    *const vs_up_seed_device_words[],
                                                        *const vs_up_arch_words[],
                                                            *const vs_up_firmware_words[],
                                                                *const vs_up_virt_type_words[];

/* The table entries of the shared flags (all of up's but --no-wait), for an options struct @T
 * whose VsUpOptions fields are reached as F(field): `VS_UP_OPTIONS(UpOptions, VS_UP_FIELD)`. */
#define VS_UP_FIELD(field) field
// clang-format off
#define VS_UP_OPTIONS(T, F)                                                                        \
    {"file", 'f', 0, VS_FILENAME(T, F(spec_file)), "Read the request from a spec file",            \
     "SPEC.yaml", VS_COMPLETE_FILE},                                                               \
    {"image", 0, 0, VS_FILENAME(T, F(image)),                                                      \
     "The cloud image: a catalog alias (ubuntu:24.04), a qcow2 or raw file, an http(s) URL, "      \
     "or a pool volume (vol:[POOL/]NAME)",                                                         \
     "IMAGE", VS_COMPLETE_IMAGE},                                                                  \
    {"image-sha256", 0, 0, VS_STRING(T, F(image_sha256)),                                          \
     "The SHA-256 of an image given by URL", "HEX"},                                               \
    {"cpus", 0, 0, VS_STRING(T, F(cpus)), "vCPUs (default 2)", "N"},                               \
    {"memory", 0, 0, VS_STRING(T, F(memory)), "Memory; a bare number is MiB (4096)", "SIZE"},      \
    {"disk", 0, 0, VS_STRING(T, F(disk)), "System disk; a bare number is GiB (20)", "SIZE"},       \
    {"instance-type", 't', 0, VS_STRING(T, F(instance_type)),                                      \
     "vCPUs and MiB at once, like c4m8192", "cNmM"},                                               \
    {"network", 0, 0, VS_STRING(T, F(network)),                                                    \
     "user, bridge:BR or network:NAME (default network:default, user on session)", "NET",          \
     VS_COMPLETE_WORDS, vs_up_network_words},                                                      \
    {"gpu", 0, 0, VS_STRING(T, F(gpu)), "auto, none, virgl, vgpu[:TYPE], passthrough:ADDR",        \
     "MODE", VS_COMPLETE_WORDS, vs_up_gpu_words},                                                  \
    {"gpu-memory", 0, 0, VS_STRING(T, F(gpu_memory)), "Smallest vGPU framebuffer (4G)",            \
     "SIZE"},                                                                                      \
    {"display", 0, 0, VS_STRING(T, F(display)), "none, vnc or spice (default none)", "HOW",        \
     VS_COMPLETE_WORDS, vs_up_display_words},                                                      \
    {"user", 0, 0, VS_STRING(T, F(user)), "The login to create in the guest", "NAME"},             \
    {"ssh-key", 0, 0, VS_FILENAMES(T, F(ssh_keys)),                                                \
     "Public key to authorize (repeatable); its private half FILE, when beside it, is the "        \
     "key virt-station logs in with",                                                              \
     "FILE.pub", VS_COMPLETE_FILE},                                                                \
    {"identity", 0, 0, VS_FILENAME(T, F(identity)),                                                \
     "The private key to log in with (remembered for the workstation)", "FILE", VS_COMPLETE_FILE}, \
    {"user-data", 0, 0, VS_FILENAME(T, F(user_data)), "Your own user-data, merged", "FILE",        \
     VS_COMPLETE_FILE},                                                                            \
    {"network-config", 0, 0, VS_FILENAME(T, F(network_config)), "Your own network-config",         \
     "FILE", VS_COMPLETE_FILE},                                                                    \
    {"seed-device", 0, 0, VS_STRING(T, F(seed_device)), "disk or cdrom (default disk)", "DEV",     \
     VS_COMPLETE_WORDS, vs_up_seed_device_words},                                                  \
    {"seed-from", 0, 0, VS_STRING(T, F(seed_from)),                                                \
     "Let cloud-init fetch its seed from this URL instead (up only, with --no-wait: no host key)", \
     "URL"},                                                                                       \
    {"arch", 0, 0, VS_STRING(T, F(arch)), "x86_64 or aarch64 (default: the host's)", "ARCH",       \
     VS_COMPLETE_WORDS, vs_up_arch_words},                                                         \
    {"firmware", 0, 0, VS_STRING(T, F(firmware)), "bios or efi", "FW", VS_COMPLETE_WORDS,          \
     vs_up_firmware_words},                                                                        \
    {"virt-type", 0, 0, VS_STRING(T, F(virt_type)),                                                \
     "auto (kvm where it can run a guest, else qemu), kvm or qemu (software emulation)", "TYPE",   \
     VS_COMPLETE_WORDS, vs_up_virt_type_words},                                                    \
    {"mac", 0, 0, VS_STRING(T, F(mac)), "The NIC's MAC address (default: random)", "MAC"},         \
    {"pool", 0, 0, VS_STRING(T, F(pool)), "Storage pool (default: default)", "POOL"},              \
    {"osinfo", 0, 0, VS_STRING(T, F(osinfo)),                                                      \
     "The libosinfo id for the domain's metadata, like http://debian.org/debian/12 (default: "     \
     "from a catalog alias)",                                                                      \
     "ID"},                                                                                        \
    {"dry-run", 'n', 0, VS_FLAG(T, F(dry_run)), "Change nothing; say what would be done"},         \
    {"print-xml", 0, 0, VS_FLAG(T, F(print_xml)), "Print the domain XML"},                         \
    {"require-signature", 0, 0, VS_FLAG(T, F(require_signature)),                                  \
     "Refuse an image whose checksum list's signature was not checked"},                           \
    {"timeout", 0, 0, VS_INT(T, F(timeout)), "Seconds to wait for readiness (600)", "S"},
// clang-format on
