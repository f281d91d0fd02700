/* tls_ca: CA files in the forms managed MySQL services ship them: PEM, PKCS#7 (.p7b) and Java KeyStore (.jks). */
#ifndef WP_TLS_CA_H
#define WP_TLS_CA_H

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"

/* What a CA file turned out to be, detected by content (never by name). */
enum tls_ca_format {
	TLS_CA_UNKNOWN = 0,
	TLS_CA_PEM = 1,	       /* one or more "BEGIN CERTIFICATE" blocks */
	TLS_CA_PKCS7_PEM = 2,  /* "BEGIN PKCS7": a certificates-only SignedData (.p7b) */
	TLS_CA_PKCS7_DER = 3,  /* the same in DER (.p7b as Windows exports it) */
	TLS_CA_JKS = 4,	       /* Java KeyStore: its trusted certificate entries */
	TLS_CA_DER = 5,	       /* one DER certificate (.cer, .der) */
	TLS_CA_PKCS12 = 6,     /* PKCS#12 (keytool's default store type): needs a password, refused */
};
const char *tls_ca_format_str(enum tls_ca_format format);

/* tls_ca_parse appends every certificate of |data| to |out| (which the caller
 * owns, with the certificates). It fails, adding nothing, on a malformed file
 * or one without certificates; |*out_format| says what the content looked
 * like either way. A JKS file's integrity digest needs the store password and
 * is not checked: the file is trusted as the PEM it replaces would be. */
WP_MUST_CHECK bool tls_ca_parse(STACK_OF(X509) *out, enum tls_ca_format *out_format,
				const uint8_t *data, size_t data_len);

/* tls_ca_load reads |path| and trusts its certificates in |ctx|. On failure
 * |why| names the file and what it holds. */
WP_MUST_CHECK bool tls_ca_load(SSL_CTX *ctx, const char *path, char *why, size_t why_len);

#endif
