#!/usr/bin/env bash
# Creates a development PKI (a CA, a server certificate and one client
# certificate per agency) for running samplan locally and for its tests.
# Needs only the openssl command-line tool (OpenSSL 3). Run with --help.
#
# Not for production: the CA key lies next to the certificates, unencrypted.
set -euo pipefail
export LC_ALL=C

readonly PROG=dev-pki
readonly DEFAULT_AGENCIES=(school-1 social-1 bup-1 auditor-1 admin-1)
readonly DEFAULT_DAYS=825
readonly CA_DAYS=3650
readonly CA_SUBJECT="/O=samplan dev/CN=samplan dev CA"
readonly SERVER_SUBJECT="/O=samplan dev/CN=localhost"
readonly SERVER_SAN="DNS:localhost, IP:127.0.0.1, IP:::1"
readonly URI_PREFIX="urn:samplan:agency:"
readonly ID_RE='^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$'

usage() {
  cat <<EOF
Usage: deploy/dev-pki.sh [--force] [--days N] OUT_DIR [AGENCY_ID ...]

Creates a development PKI for samplan's mutual TLS in OUT_DIR (created if
missing). Every file is PEM; every key is ECDSA P-256 in PKCS#8
("BEGIN PRIVATE KEY"), mode 0600. Not for production.

Files:
  OUT_DIR/ca.pem, ca.key        the development CA, self-signed, valid
                                ${CA_DAYS} days, subject "${CA_SUBJECT}"
  OUT_DIR/server.pem, server.key  the server certificate (serverAuth),
                                subject CN=localhost, SAN ${SERVER_SAN}
  OUT_DIR/<id>.pem, <id>.key    one client certificate (clientAuth) per
                                agency id, subject "/O=samplan dev/CN=<id>"

Agency identity: samplan takes the caller's agency from a URI SAN of the form
  ${URI_PREFIX}<id>
so the certificate of agency school-1 carries URI:${URI_PREFIX}school-1.
The same id must be registered with AdminService.CreateAgency.

Agency ids: 2-63 characters of [a-z0-9-], not starting or ending with '-'
(regex ${ID_RE}); "ca" and "server" are reserved.
Default ids: ${DEFAULT_AGENCIES[*]}

Options:
  --days N    validity of the server and agency certificates in days
              (1-${CA_DAYS}, default ${DEFAULT_DAYS}); the CA is always ${CA_DAYS} days
  --force     recreate everything: a new CA, and new server and agency
              certificates for the ids given (or the default ids)
  -h, --help  print this text and exit

Without --force the script is idempotent: an existing CA (ca.pem + ca.key) is
reused, and only missing certificates are created (a certificate that no
longer verifies against ca.pem, e.g. an expired one, is recreated). Running it
again with one more id adds just that agency, signed by the same CA.
Each new certificate is checked with 'openssl verify' before it is written.

Example:
  deploy/dev-pki.sh var/pki                   # CA, server, the default agencies
  deploy/dev-pki.sh var/pki school-2          # adds school-2.pem/.key
  openssl x509 -in var/pki/school-2.pem -noout -ext subjectAltName
    # X509v3 Subject Alternative Name: URI:${URI_PREFIX}school-2

Exit status: 0 on success, 2 on a usage error or a bad agency id, 1 otherwise.
EOF
}

die() {
  echo "${PROG}: error: $*" >&2
  exit 1
}

usage_error() {
  echo "${PROG}: $*" >&2
  usage >&2
  exit 2
}

# --- arguments ---------------------------------------------------------------

force=0
days=${DEFAULT_DAYS}
positional=()
while (($# > 0)); do
  case $1 in
    -h | --help)
      usage
      exit 0
      ;;
    --force)
      force=1
      ;;
    --days)
      (($# >= 2)) || usage_error "--days needs a value"
      days=$2
      shift
      ;;
    --days=*)
      days=${1#--days=}
      ;;
    --)
      shift
      positional+=("$@")
      break
      ;;
    -*)
      usage_error "unknown option: $1"
      ;;
    *)
      positional+=("$1")
      ;;
  esac
  shift
done

((${#positional[@]} >= 1)) || usage_error "missing OUT_DIR"
[[ -n ${positional[0]} ]] || usage_error "OUT_DIR must not be empty"

if [[ ! $days =~ ^[0-9]+$ ]] || ((10#$days < 1 || 10#$days > CA_DAYS)); then
  usage_error "--days must be a whole number from 1 to ${CA_DAYS}, got '${days}'"
fi
days=$((10#$days))

out=${positional[0]}
# Display form of OUT_DIR: as given, without trailing slashes.
[[ $out == / ]] || out=${out%"${out##*[!/]}"}

requested=("${positional[@]:1}")
((${#requested[@]} > 0)) || requested=("${DEFAULT_AGENCIES[@]}")

agencies=()
for id in "${requested[@]}"; do
  if [[ ! $id =~ $ID_RE ]]; then
    echo "${PROG}: invalid agency id '${id}': must match ${ID_RE}" \
      "(2-63 characters of a-z, 0-9 and '-', no '-' at either end)" >&2
    exit 2
  fi
  if [[ $id == ca || $id == server ]]; then
    echo "${PROG}: invalid agency id '${id}': reserved (${id}.pem is used by the PKI itself)" >&2
    exit 2
  fi
  dup=0
  for seen in "${agencies[@]}"; do
    [[ $seen != "$id" ]] || dup=1
  done
  ((dup)) || agencies+=("$id")
done

command -v openssl >/dev/null 2>&1 || die "openssl not found (Debian: apt-get install openssl)"

# --- setup -------------------------------------------------------------------

mkdir -p -- "$out" || die "cannot create ${out}"

# Serialise concurrent runs on the same OUT_DIR (e.g. parallel tests).
if command -v flock >/dev/null 2>&1 && exec 9<"$out"; then
  flock 9 || die "cannot lock ${out}"
fi

tmp=$(mktemp -d "${out}/.dev-pki.XXXXXX") || die "cannot create a temporary directory in ${out}"
trap 'rm -rf -- "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Runs openssl with its chatter on stderr captured; on failure prints it and
# exits. stdout is left to the caller.
ossl() {
  if ! openssl "$@" 2>"${tmp}/openssl.err"; then
    cat "${tmp}/openssl.err" >&2
    die "openssl $1 failed"
  fi
}

cat >"${tmp}/openssl.cnf" <<EOF
# openssl req settings and the CA's extensions; each leaf gets its own file.
[req]
distinguished_name = req_dn
prompt             = no
utf8               = yes
string_mask        = utf8only

[req_dn]
CN = overridden by -subj

[v3_ca]
basicConstraints       = critical, CA:TRUE, pathlen:0
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
EOF

# A random positive 63-bit serial number, as 0x followed by 16 hex digits.
random_serial() {
  local hex first
  hex=$(ossl rand -hex 8)
  [[ $hex =~ ^[0-9a-f]{16}$ ]] || die "openssl rand returned '${hex}'"
  first=$((0x${hex:0:1} & 7))
  hex=${first}${hex:1}
  [[ $hex != 0000000000000000 ]] || hex=0000000000000001
  echo "0x${hex}"
}

# An ECDSA P-256 key (named curve) in PKCS#8 PEM, mode 0600.
new_key() {
  (umask 077 && ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -pkeyopt ec_param_enc:named_curve -out "$1")
  chmod 600 "$1"
}

# True if certificate $1 and private key $2 belong together.
pair_matches() {
  local a b
  a=$(openssl x509 -in "$1" -noout -pubkey 2>/dev/null) || return 1
  b=$(openssl pkey -in "$2" -pubout 2>/dev/null) || return 1
  [[ -n $a && $a == "$b" ]]
}

# True if certificate $1 verifies against CA file $2 for purpose $3.
verifies() {
  openssl verify -x509_strict -purpose "$3" -CAfile "$2" "$1" >/dev/null 2>&1
}

created=0
created_line() {
  echo "${PROG}: created $*"
  created=$((created + 1))
}

# --- CA ----------------------------------------------------------------------

ca_pem=${out}/ca.pem
ca_key=${out}/ca.key
new_ca=0

if ((force == 0)) && [[ -e $ca_pem || -e $ca_key ]]; then
  [[ -f $ca_pem && -f $ca_key ]] ||
    die "incomplete CA in ${out}: need both ca.pem and ca.key; remove the other one or use --force"
  pair_matches "$ca_pem" "$ca_key" ||
    die "${ca_pem} and ${ca_key} do not belong together (or cannot be read); use --force to recreate the PKI"
  ca_reused=1
else
  new_key "${tmp}/ca.key"
  serial=$(random_serial)
  ossl req -x509 -new -config "${tmp}/openssl.cnf" -extensions v3_ca \
    -key "${tmp}/ca.key" -subj "$CA_SUBJECT" -sha256 -days "$CA_DAYS" \
    -set_serial "$serial" -out "${tmp}/ca.pem"
  verifies "${tmp}/ca.pem" "${tmp}/ca.pem" any ||
    die "the new CA certificate does not verify against itself"
  chmod 644 "${tmp}/ca.pem"
  mv -f -- "${tmp}/ca.key" "$ca_key"
  mv -f -- "${tmp}/ca.pem" "$ca_pem"
  created_line "${ca_pem} (development CA, valid ${CA_DAYS} days)"
  created_line "${ca_key} (CA private key, mode 0600)"
  new_ca=1
  ca_reused=0
fi

# --- leaves ------------------------------------------------------------------

# make_leaf NAME SUBJECT EKU SAN PURPOSE DESCRIPTION
make_leaf() {
  local name=$1 subject=$2 eku=$3 san=$4 purpose=$5 desc=$6
  local pem=${out}/${name}.pem key=${out}/${name}.key serial

  if ((force == 0 && new_ca == 0)) && [[ -e $pem || -e $key ]]; then
    if [[ -f $pem && -f $key ]] && pair_matches "$pem" "$key" &&
      verifies "$pem" "$ca_pem" "$purpose"; then
      return 0
    fi
    echo "${PROG}: note: ${name}.pem/${name}.key in ${out} are missing," \
      "do not match, or do not verify against ca.pem (expired?); recreating them" >&2
  fi

  cat >"${tmp}/${name}.ext" <<EOF
[v3_leaf]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = ${eku}
subjectAltName         = ${san}
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
EOF
  new_key "${tmp}/${name}.key"
  ossl req -new -config "${tmp}/openssl.cnf" -key "${tmp}/${name}.key" \
    -subj "$subject" -out "${tmp}/${name}.csr"
  serial=$(random_serial)
  ossl x509 -req -in "${tmp}/${name}.csr" -CA "$ca_pem" -CAkey "$ca_key" \
    -set_serial "$serial" -sha256 -days "$days" \
    -extfile "${tmp}/${name}.ext" -extensions v3_leaf -out "${tmp}/${name}.pem"
  if ! openssl verify -x509_strict -purpose "$purpose" -CAfile "$ca_pem" \
    "${tmp}/${name}.pem" >"${tmp}/verify.out" 2>&1; then
    cat "${tmp}/verify.out" >&2
    die "the new certificate ${name}.pem does not verify against ${ca_pem}"
  fi
  chmod 644 "${tmp}/${name}.pem"
  mv -f -- "${tmp}/${name}.key" "$key"
  mv -f -- "${tmp}/${name}.pem" "$pem"
  created_line "${pem} (${desc})"
  created_line "${key} (private key, mode 0600)"
}

make_leaf server "$SERVER_SUBJECT" serverAuth "$SERVER_SAN" sslserver \
  "server, ${SERVER_SAN//, /,}"
for id in "${agencies[@]}"; do
  make_leaf "$id" "/O=samplan dev/CN=${id}" clientAuth "URI:${URI_PREFIX}${id}" \
    sslclient "${URI_PREFIX}${id}"
done

# A new CA leaves certificates from an earlier one, for ids not named in this
# run, unverifiable; say so instead of deleting them.
if ((new_ca)); then
  for pem in "$out"/*.pem; do
    [[ -f $pem ]] || continue
    base=${pem##*/}
    [[ $base != ca.pem ]] || continue
    if ! verifies "$pem" "$ca_pem" any; then
      echo "${PROG}: warning: ${pem} was not recreated and does not verify against" \
        "the new ${ca_pem}; delete it or name its id on the command line" >&2
    fi
  done
fi

if ((created == 0)); then
  echo "${PROG}: nothing to do: ${out} is complete (CA, server, ${#agencies[@]} agencies)"
elif ((ca_reused)); then
  echo "${PROG}: done: ${created} files created in ${out}, signed by the existing CA ${ca_pem}"
else
  echo "${PROG}: done: ${created} files created in ${out} with a new CA ${ca_pem}"
fi
