#!/usr/bin/env bash
# make.sh: regenerates the CA files tls_ca_test.c and the fuzz corpus read: one CA
# certificate as PEM, DER, PKCS#7 (PEM and DER, as .p7b), a JKS store (keytool
# -storetype JKS, with a private key entry too) and a PKCS#12 store (keytool's default).
set -euo pipefail
cd "$(dirname "$0")"
rm -f ./*.pem ./*.der ./*.p7b ./*.jks ./*.p12
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 36500 \
  -subj "/CN=warmpool tls_ca test CA" -keyout ca-key.pem -out ca.pem 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 36500 \
  -subj "/CN=warmpool tls_ca second CA" -keyout /dev/null -out second.pem 2>/dev/null
cat ca.pem second.pem > bundle.pem
openssl x509 -in ca.pem -outform DER -out ca.der
openssl crl2pkcs7 -nocrl -certfile bundle.pem -out bundle.p7b
openssl crl2pkcs7 -nocrl -certfile bundle.pem -outform DER -out bundle-der.p7b
keytool -importcert -noprompt -alias ca -file ca.pem -keystore bundle.jks -storepass changeit \
  -storetype JKS 2>/dev/null
keytool -importcert -noprompt -alias second -file second.pem -keystore bundle.jks \
  -storepass changeit -storetype JKS 2>/dev/null
# A private key entry (skipped: its chain is not a trust anchor).
keytool -genkeypair -alias client -keyalg EC -dname "CN=client" -keystore bundle.jks \
  -storepass changeit -keypass changeit -storetype JKS -validity 36500 2>/dev/null
keytool -importcert -noprompt -alias ca -file ca.pem -keystore ca.p12 -storepass changeit \
  -storetype PKCS12 2>/dev/null
rm -f ca-key.pem
