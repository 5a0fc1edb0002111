#!/usr/bin/env bash
# Makes a throwaway certificate authority and a server certificate for TLS tests:
#   Scripts/make-test-ca.sh DIR
# writes DIR/ca.crt (the CA), DIR/server.crt and DIR/server.key (CN and SAN localhost,
# 127.0.0.1, ::1, signed by the CA), and DIR/other-ca.crt (an unrelated CA, for the
# "wrong CA" case). Keys are 2048-bit RSA, valid two days. Needs the openssl CLI.
set -euo pipefail
dir=${1:?usage: make-test-ca.sh DIR}
mkdir -p "$dir"
cd "$dir"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj "/CN=Skygate test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
cat > server.ext <<EXT
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
EXT
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile server.ext 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.crt -days 2 -subj "/CN=Another CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
rm -f server.csr server.ext ca.srl other-ca.key
chmod 600 ca.key server.key
