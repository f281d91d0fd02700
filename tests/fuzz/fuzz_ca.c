/* fuzz_ca: the ssl_ca reader (PEM, DER, PKCS#7, JKS detection and parsing) on arbitrary bytes. */
#include <stdint.h>

#include "tls_ca.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	STACK_OF(X509) *certs = sk_X509_new_null();
	enum tls_ca_format format;
	if (tls_ca_parse(certs, &format, data, size) && sk_X509_num(certs) == 0)
		__builtin_trap(); /* success means at least one certificate */
	sk_X509_pop_free(certs, X509_free);
	return 0;
}
