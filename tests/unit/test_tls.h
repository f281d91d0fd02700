/* test_tls: a throwaway server certificate and context for the TLS unit tests. */
#ifndef WP_TEST_TLS_H
#define WP_TEST_TLS_H

#include <criterion/criterion.h>
#include <openssl/ec_key.h>
#include <openssl/evp.h>
#include <openssl/obj.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

/* A throwaway P-256 key and self-signed certificate for the server side. */
static inline SSL_CTX *test_server_ctx(int max_version)
{
	EVP_PKEY *pkey = EVP_PKEY_new();
	EC_KEY *ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
	cr_assert(EC_KEY_generate_key(ec) && EVP_PKEY_assign_EC_KEY(pkey, ec));
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const uint8_t *)"localhost", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, pkey);
	cr_assert(X509_sign(x, pkey, EVP_sha256()));
	SSL_CTX *ctx = SSL_CTX_new(TLS_method());
	SSL_CTX_set_max_proto_version(ctx, max_version);
	cr_assert(SSL_CTX_use_certificate(ctx, x) && SSL_CTX_use_PrivateKey(ctx, pkey));
	X509_free(x);
	EVP_PKEY_free(pkey);
	return ctx;
}

#endif
