/* tls_ca_test: CA files as PEM, DER, PKCS#7, JKS (made by openssl and keytool: data/ca/make.sh). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls_ca.h"

static uint8_t *slurp(const char *name, size_t *out_len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", CA_DATA_DIR, name);
	FILE *f = fopen(path, "rb");
	cr_assert(f, "cannot open %s", path);
	uint8_t *data = malloc(1 << 16);
	*out_len = fread(data, 1, 1 << 16, f);
	fclose(f);
	return data;
}

/* common_names lists the CNs parsed from |data|, sorted, comma-separated. */
static bool parse_names(const uint8_t *data, size_t len, enum tls_ca_format *format, char *out,
			size_t out_len)
{
	STACK_OF(X509) *certs = sk_X509_new_null();
	bool ok = tls_ca_parse(certs, format, data, len);
	char names[8][128];
	size_t n = sk_X509_num(certs);
	cr_assert(ok || n == 0, "a failed parse added certificates");
	for (size_t i = 0; i < n && i < 8; i++)
		X509_NAME_get_text_by_NID(X509_get_subject_name(sk_X509_value(certs, i)),
					  NID_commonName, names[i], sizeof(names[i]));
	qsort(names, n < 8 ? n : 8, sizeof(names[0]), (int (*)(const void *, const void *))strcmp);
	out[0] = '\0';
	for (size_t i = 0; i < n && i < 8; i++) {
		strncat(out, names[i], out_len - strlen(out) - 1);
		if (i + 1 < n)
			strncat(out, ",", out_len - strlen(out) - 1);
	}
	sk_X509_pop_free(certs, X509_free);
	return ok;
}

struct ca_case {
	const char *file;
	enum tls_ca_format format;
	const char *names; /* NULL: refused */
};

#define BOTH "warmpool tls_ca second CA,warmpool tls_ca test CA"

static const struct ca_case cases[] = {
	{"ca.pem", TLS_CA_PEM, "warmpool tls_ca test CA"},
	{"bundle.pem", TLS_CA_PEM, BOTH},
	{"ca.der", TLS_CA_DER, "warmpool tls_ca test CA"},
	{"bundle.p7b", TLS_CA_PKCS7_PEM, BOTH},
	{"bundle-der.p7b", TLS_CA_PKCS7_DER, BOTH},
	{"bundle.jks", TLS_CA_JKS, BOTH}, /* its private key entry's chain is not trusted */
	{"ca.p12", TLS_CA_PKCS12, NULL},
};

Test(tls_ca, every_format_is_detected_by_content_and_read)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len;
		uint8_t *data = slurp(cases[i].file, &len);
		enum tls_ca_format format;
		char names[512];
		bool ok = parse_names(data, len, &format, names, sizeof(names));
		cr_expect_eq(format, cases[i].format, "%s: read as %s", cases[i].file,
			     tls_ca_format_str(format));
		cr_expect_eq(ok, cases[i].names != NULL, "%s", cases[i].file);
		if (ok)
			cr_expect_str_eq(names, cases[i].names, "%s", cases[i].file);
		free(data);
	}
}

/* Every prefix of every binary file is refused, without a crash and without
 * certificates; a PEM PKCS#7 cut before its END line too. */
Test(tls_ca, truncated_files_are_refused)
{
	size_t p7b_len;
	uint8_t *p7b = slurp("bundle.p7b", &p7b_len);
	for (size_t cut = 0; cut < p7b_len - strlen("-----END PKCS7-----\n"); cut++) {
		enum tls_ca_format format;
		char names[512];
		cr_expect_not(parse_names(p7b, cut, &format, names, sizeof(names)),
			      "bundle.p7b cut at %zu accepted", cut);
	}
	free(p7b);
	static const char *const binary[] = {"ca.der", "bundle-der.p7b", "bundle.jks"};
	for (size_t i = 0; i < sizeof(binary) / sizeof(binary[0]); i++) {
		size_t len;
		uint8_t *data = slurp(binary[i], &len);
		for (size_t cut = 0; cut < len; cut++) {
			enum tls_ca_format format;
			char names[512];
			cr_expect_not(parse_names(data, cut, &format, names, sizeof(names)),
				      "%s cut at %zu accepted", binary[i], cut);
		}
		free(data);
	}
}

Test(tls_ca, malformed_keystores_and_pem_are_refused)
{
	size_t len;
	uint8_t *jks = slurp("bundle.jks", &len);
	uint8_t *longer = malloc(len + 1);
	memcpy(longer, jks, len);
	longer[len] = 0;
	enum tls_ca_format format;
	char names[512];
	cr_expect_not(parse_names(longer, len + 1, &format, names, sizeof(names)), "trailing byte");
	jks[15] = 3; /* the first entry's tag: a secret key (JCEKS only) */
	cr_expect_not(parse_names(jks, len, &format, names, sizeof(names)), "unknown tag");
	jks[15] = 2;
	jks[7] = 3; /* version 3 does not exist */
	cr_expect_not(parse_names(jks, len, &format, names, sizeof(names)), "version 3");
	free(jks);
	free(longer);

	size_t pem_len;
	uint8_t *pem = slurp("ca.pem", &pem_len);
	const char bad[] = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
	uint8_t *mixed = malloc(pem_len + sizeof(bad));
	memcpy(mixed, pem, pem_len);
	memcpy(mixed + pem_len, bad, sizeof(bad) - 1);
	cr_expect_not(parse_names(mixed, pem_len + sizeof(bad) - 1, &format, names, sizeof(names)),
		      "a broken block after a good one");
	cr_expect_not(parse_names((const uint8_t *)"", 0, &format, names, sizeof(names)));
	cr_expect_eq(format, TLS_CA_UNKNOWN);
	cr_expect_not(parse_names((const uint8_t *)"hello", 5, &format, names, sizeof(names)));
	free(pem);
	free(mixed);
}

Test(tls_ca, load_names_the_file_and_what_it_holds)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_method());
	char why[768];
	char path[512];
	snprintf(path, sizeof(path), "%s/bundle.jks", CA_DATA_DIR);
	cr_expect(tls_ca_load(ctx, path, why, sizeof(why)), "%s", why);
	snprintf(path, sizeof(path), "%s/ca.p12", CA_DATA_DIR);
	cr_expect_not(tls_ca_load(ctx, path, why, sizeof(why)));
	cr_expect(strstr(why, path) && strstr(why, "PKCS#12"), "%s", why);
	snprintf(path, sizeof(path), "%s/make.sh", CA_DATA_DIR);
	cr_expect_not(tls_ca_load(ctx, path, why, sizeof(why)));
	cr_expect(strstr(why, path) && strstr(why, "no certificate"), "%s", why);
	cr_expect_not(tls_ca_load(ctx, "/nonexistent/ca.pem", why, sizeof(why)));
	cr_expect_str_eq(why, "cannot open ssl_ca /nonexistent/ca.pem: No such file or directory");
	SSL_CTX_free(ctx);
}
