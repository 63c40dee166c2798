/* tls.c - describes a TLS session for the record: protocol version,
 * cipher, and the leaf certificate's names, validity and SHA-256. Fields
 * come from the server and are capped in count and length. */
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#include "lib/alloc.h"
#include "probe/probe_int.h"

#define TLS_MAX_SANS 100
#define TLS_MAX_NAME 256

/* Copy an ASN1 string (any encoding) as UTF-8, capped. */
static char *asn1_to_str(const ASN1_STRING *s)
{
	unsigned char *utf8 = NULL;
	int n = ASN1_STRING_to_UTF8(&utf8, s);
	if (n < 0)
		return NULL;
	size_t len = (size_t)n > TLS_MAX_NAME ? TLS_MAX_NAME : (size_t)n;
	char *out = xmalloc(len + 1);
	memcpy(out, utf8, len);
	out[len] = '\0';
	for (size_t i = 0; i < len; i++)
		if (out[i] == '\0')
			out[i] = ' ';
	OPENSSL_free(utf8);
	return out;
}

static char *name_cn(const X509_NAME *name)
{
	if (!name)
		return NULL;
	int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	if (idx < 0)
		return NULL;
	const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, idx);
	return e ? asn1_to_str(X509_NAME_ENTRY_get_data(e)) : NULL;
}

static void asn1_time_str(const ASN1_TIME *t, char *buf, size_t size)
{
	struct tm tm;
	if (!t || ASN1_TIME_to_tm(t, &tm) != 1) {
		snprintf(buf, size, "invalid");
		return;
	}
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void probe_tls_describe(SSL *ssl, struct record_tls *t)
{
	snprintf(t->version, sizeof(t->version), "%s", SSL_get_version(ssl));
	const char *cipher = SSL_get_cipher_name(ssl);
	snprintf(t->cipher, sizeof(t->cipher), "%s", cipher ? cipher : "");
	X509 *cert = SSL_get1_peer_certificate(ssl);
	if (!cert)
		return;
	t->have_cert = true;
	t->subject_cn = name_cn(X509_get_subject_name(cert));
	t->issuer_cn = name_cn(X509_get_issuer_name(cert));
	asn1_time_str(X509_get0_notBefore(cert), t->not_before, sizeof(t->not_before));
	asn1_time_str(X509_get0_notAfter(cert), t->not_after, sizeof(t->not_after));
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (X509_digest(cert, EVP_sha256(), md, &mdlen) == 1)
		for (unsigned i = 0; i < mdlen && i < 32; i++)
			snprintf(t->sha256 + 2 * i, 3, "%02x", md[i]);
	GENERAL_NAMES *sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	if (sans) {
		int n = sk_GENERAL_NAME_num(sans);
		for (int i = 0; i < n && t->sans.n < TLS_MAX_SANS; i++) {
			const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
			if (g->type == GEN_DNS) {
				char *s = asn1_to_str(g->d.dNSName);
				if (s) {
					strlist_add(&t->sans, s);
					free(s);
				}
			} else if (g->type == GEN_IPADD && g->d.iPAddress->length == 4) {
				const unsigned char *a = g->d.iPAddress->data;
				strlist_addf(&t->sans, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
			}
		}
		GENERAL_NAMES_free(sans);
	}
	X509_free(cert);
}
