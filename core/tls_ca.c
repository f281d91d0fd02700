/* tls_ca: reads ssl_ca files as PEM, PKCS#7 or Java KeyStore, detected by content. */
#include "tls_ca.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/bytestring.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <stdio.h>
#include <string.h>

/* CA_FILE_MAX bounds a CA file: the biggest public bundles are ~250 KiB. */
#define CA_FILE_MAX (16u << 20)

#define JKS_MAGIC 0xfeedfeedu
#define JKS_TAG_PRIVATE_KEY 1
#define JKS_TAG_TRUSTED_CERT 2
#define JKS_DIGEST_LEN 20 /* SHA-1 over password and contents, at the end */

const char *tls_ca_format_str(enum tls_ca_format format)
{
	switch (format) {
	case TLS_CA_UNKNOWN: return "unknown";
	case TLS_CA_PEM: return "PEM";
	case TLS_CA_PKCS7_PEM: return "PKCS#7 (PEM)";
	case TLS_CA_PKCS7_DER: return "PKCS#7 (DER)";
	case TLS_CA_JKS: return "Java KeyStore";
	case TLS_CA_DER: return "DER certificate";
	case TLS_CA_PKCS12: return "PKCS#12";
	}
	return "unknown";
}

/* push_der parses one whole DER certificate onto |out|. */
static bool push_der(STACK_OF(X509) *out, CBS der)
{
	const uint8_t *p = CBS_data(&der);
	X509 *x = d2i_X509(NULL, &p, (long)CBS_len(&der));
	if (!x || p != CBS_data(&der) + CBS_len(&der) || !sk_X509_push(out, x)) {
		X509_free(x);
		return false;
	}
	return true;
}

/* get_u32_prefixed reads a big-endian 32-bit length and that many bytes. */
static bool get_u32_prefixed(CBS *in, CBS *out)
{
	uint32_t len;
	return CBS_get_u32(in, &len) && CBS_get_bytes(in, out, len);
}

/* jks_cert reads one certificate of a JKS entry: (version 2) its type, which
 * must be X.509, then its DER bytes. */
static bool jks_cert(CBS *in, uint32_t version, CBS *out_der)
{
	CBS type;
	if (version == 2 &&
	    (!CBS_get_u16_length_prefixed(in, &type) || !CBS_mem_equal(&type, (const uint8_t *)"X.509", 5)))
		return false;
	return get_u32_prefixed(in, out_der);
}

/* jks_skip_key passes over a private key entry: its (encrypted) key and its
 * chain. A chain vouches for that key, not for servers: it is not trusted. */
static bool jks_skip_key(CBS *in, uint32_t version)
{
	CBS key, der;
	uint32_t chain;
	if (!get_u32_prefixed(in, &key) || !CBS_get_u32(in, &chain))
		return false;
	for (uint32_t i = 0; i < chain; i++) {
		if (!jks_cert(in, version, &der))
			return false;
	}
	return true;
}

/* parse_jks reads a Java KeyStore (big-endian: magic, version, entry count,
 * entries, digest) and keeps its trusted certificate entries. */
static bool parse_jks(STACK_OF(X509) *out, CBS in)
{
	uint32_t magic, version, count;
	if (!CBS_get_u32(&in, &magic) || magic != JKS_MAGIC || !CBS_get_u32(&in, &version) ||
	    (version != 1 && version != 2) || !CBS_get_u32(&in, &count))
		return false;
	for (uint32_t i = 0; i < count; i++) {
		uint32_t tag;
		uint64_t created_ms;
		CBS alias, der;
		if (!CBS_get_u32(&in, &tag) || !CBS_get_u16_length_prefixed(&in, &alias) ||
		    !CBS_get_u64(&in, &created_ms))
			return false;
		if (tag == JKS_TAG_TRUSTED_CERT) {
			if (!jks_cert(&in, version, &der) || !push_der(out, der))
				return false;
		} else if (tag != JKS_TAG_PRIVATE_KEY || !jks_skip_key(&in, version)) {
			return false;
		}
	}
	return CBS_len(&in) == JKS_DIGEST_LEN;
}

/* parse_pem reads every CERTIFICATE block; other blocks (a key) are skipped. */
static bool parse_pem(STACK_OF(X509) *out, const uint8_t *data, size_t len)
{
	BIO *bio = BIO_new_mem_buf(data, (int)len);
	X509 *x;
	while (bio && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
		if (!sk_X509_push(out, x)) {
			X509_free(x);
			break;
		}
	}
	/* The loop ends at the end of the data, or at a block that does not parse. */
	uint32_t err = ERR_peek_last_error();
	bool clean = ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE;
	ERR_clear_error();
	BIO_free(bio);
	return clean;
}

static bool parse_pkcs7_pem(STACK_OF(X509) *out, const uint8_t *data, size_t len)
{
	BIO *bio = BIO_new_mem_buf(data, (int)len);
	bool ok = bio && PKCS7_get_PEM_certificates(out, bio);
	BIO_free(bio);
	return ok;
}

static bool parse_pkcs7_der(STACK_OF(X509) *out, CBS in)
{
	return PKCS7_get_certificates(out, &in) && CBS_len(&in) == 0;
}

/* looks_pkcs12: a DER SEQUENCE whose first element is INTEGER 3 (PFX version). */
static bool looks_pkcs12(CBS in)
{
	CBS pfx;
	uint64_t version;
	return CBS_get_asn1(&in, &pfx, CBS_ASN1_SEQUENCE) && CBS_get_asn1_uint64(&pfx, &version) &&
	       version == 3;
}

static bool contains(const uint8_t *data, size_t len, const char *needle)
{
	return memmem(data, len, needle, strlen(needle)) != NULL;
}

/* detect names the format from the content alone. */
static enum tls_ca_format detect(const uint8_t *data, size_t len)
{
	CBS in;
	uint32_t magic;
	CBS_init(&in, data, len);
	if (CBS_get_u32(&in, &magic) && magic == JKS_MAGIC)
		return TLS_CA_JKS;
	if (contains(data, len, "-----BEGIN PKCS7-----"))
		return TLS_CA_PKCS7_PEM;
	if (contains(data, len, "-----BEGIN "))
		return TLS_CA_PEM;
	if (len == 0 || data[0] != 0x30) /* DER SEQUENCE */
		return TLS_CA_UNKNOWN;
	CBS_init(&in, data, len);
	if (looks_pkcs12(in))
		return TLS_CA_PKCS12;
	/* A DER SignedData starts with its content type OID; a certificate does not. */
	static const uint8_t signed_data_oid[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02};
	return memmem(data, len < 32 ? len : 32, signed_data_oid, sizeof(signed_data_oid))
		       ? TLS_CA_PKCS7_DER
		       : TLS_CA_DER;
}

bool tls_ca_parse(STACK_OF(X509) *out, enum tls_ca_format *out_format, const uint8_t *data,
		  size_t data_len)
{
	STACK_OF(X509) *certs = sk_X509_new_null();
	CBS in;
	CBS_init(&in, data, data_len);
	bool ok = false;
	*out_format = detect(data, data_len);
	if (!certs)
		return false;
	switch (*out_format) {
	case TLS_CA_PEM: ok = parse_pem(certs, data, data_len); break;
	case TLS_CA_PKCS7_PEM: ok = parse_pkcs7_pem(certs, data, data_len); break;
	case TLS_CA_PKCS7_DER: ok = parse_pkcs7_der(certs, in); break;
	case TLS_CA_JKS: ok = parse_jks(certs, in); break;
	case TLS_CA_DER: ok = push_der(certs, in); break;
	case TLS_CA_PKCS12:
	case TLS_CA_UNKNOWN: ok = false; break;
	}
	ok = ok && sk_X509_num(certs) > 0;
	while (ok && sk_X509_num(certs) > 0) {
		X509 *x = sk_X509_shift(certs);
		if (!sk_X509_push(out, x)) {
			X509_free(x);
			ok = false;
		}
	}
	sk_X509_pop_free(certs, X509_free);
	ERR_clear_error();
	return ok;
}

/* read_file reads a whole file of at most CA_FILE_MAX bytes. */
static uint8_t *read_file(const char *path, size_t *out_len, char *why, size_t why_len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(why, why_len, "cannot open ssl_ca %s: %s", path, strerror(errno));
		return NULL;
	}
	uint8_t *data = OPENSSL_malloc(CA_FILE_MAX);
	size_t len = data ? fread(data, 1, CA_FILE_MAX, f) : 0;
	bool whole = data && feof(f) && !ferror(f);
	fclose(f);
	if (!whole) {
		OPENSSL_free(data);
		snprintf(why, why_len, "cannot read ssl_ca %s (unreadable, or over %u MiB)", path,
			 CA_FILE_MAX >> 20);
		return NULL;
	}
	*out_len = len;
	return data;
}

bool tls_ca_load(SSL_CTX *ctx, const char *path, char *why, size_t why_len)
{
	size_t len;
	uint8_t *data = read_file(path, &len, why, why_len);
	if (!data)
		return false;
	STACK_OF(X509) *certs = sk_X509_new_null();
	enum tls_ca_format format = TLS_CA_UNKNOWN;
	bool ok = certs && tls_ca_parse(certs, &format, data, len);
	OPENSSL_free(data);
	if (!ok) {
		if (format == TLS_CA_PKCS12)
			snprintf(why, why_len, "ssl_ca %s is a PKCS#12 keystore, which needs a password: "
				 "export its CA as PEM (keytool -exportcert -rfc) or use a JKS store",
				 path);
		else
			snprintf(why, why_len, "ssl_ca %s holds no certificate warmpool can read "
				 "(read as %s; PEM, PKCS#7 .p7b, JKS or DER expected)",
				 path, tls_ca_format_str(format));
	}
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	for (size_t i = 0; ok && i < sk_X509_num(certs); i++) {
		if (!X509_STORE_add_cert(store, sk_X509_value(certs, i))) {
			snprintf(why, why_len, "ssl_ca %s: cannot add certificate %zu to the store", path,
				 i + 1);
			ok = false;
		}
	}
	sk_X509_pop_free(certs, X509_free);
	return ok;
}
