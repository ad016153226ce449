/* Cleanup functions for the libvirt and libxml2 types we hold, and the domains/ error domain. */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC(virConnect, virConnectClose)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virDomain, virDomainFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virStoragePool, virStoragePoolFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virStorageVol, virStorageVolFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virStream, virStreamFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlXPathContext, xmlXPathFreeContext)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlXPathObject, xmlXPathFreeObject)

#define VS_DOMAINS_ERROR (vs_domains_error_quark())
GQuark vs_domains_error_quark(void);

typedef enum {
    VS_DOMAINS_ERROR_FAILED,    /* libvirt said no; the message says why */
    VS_DOMAINS_ERROR_NOT_FOUND, /* no such domain, pool or volume */
    VS_DOMAINS_ERROR_EXISTS,    /* the name is taken */
    VS_DOMAINS_ERROR_FOREIGN,   /* the domain is not virt-station's */
    VS_DOMAINS_ERROR_INVALID,   /* bad input: a name, a size, a spec value */
} VsDomainsError;

/* Sets @error from libvirt's last error, prefixed with @what. Returns FALSE for tail calls. */
gboolean vs_libvirt_error(GError **error, const char *what);
