#!/usr/bin/env bash
# End to end: the README's run command in its scripted form
# (deploy/quickstart.sh --demo) with the built binaries, in a temporary
# directory, on a free port. The demo must exit 0 and show the allowed read,
# the refused reads and the reasons.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=$work/demo.log
if ! "$root/deploy/quickstart.sh" --demo --no-build --var "$work/var" >"$out" 2>&1; then
  echo "quickstart --demo failed:"; cat "$out"; exit 1
fi
fail=0
expect() {
  if ! grep -qF -- "$1" "$out"; then
    echo "missing from the demo output: $1"; fail=1
  fi
}
expect "Weekly sessions with a BUP counsellor"          # allowed read
expect "entry: agencies/bup-1 INFORMATION_CATEGORY_INTERVENTIONS"  # over REST
expect "withheld: agencies/bup-1 INFORMATION_CATEGORY_HEALTH DECISION_REASON_CATEGORY_OUT_OF_SCOPE"
expect "withheld: agencies/bup-1 health (CATEGORY_OUT_OF_SCOPE)"
expect "samplanctl: NOT_FOUND: plan not found"  # not invited
expect "(exit code 3: refused"
expect "withheld: agencies/bup-1 interventions (CONSENT_REVOKED)"
expect "ALLOW (CONSENT_COVERS)"
expect "DENY (GRANTOR_NOT_COMPETENT)"
expect "Revoked; no decision relies on the grant"         # administrator
expect "Socialtjansten Norr (agencies/social-1)  sara.ek  plan-read"  # extract
expect "DENY (NOT_PARTICIPANT)"
expect "verified: "                                      # offline verify
expect "Demo complete"
expect "Wrote the family's copy of plans/"               # the family's copy
expect "verified: consent given"                           # the receipt
expect "verified: consent withdrawn"                       # its withdrawal's
expect "Wrote the receipt grants/"                         # in words
receipt=$work/var/family/consent-receipt.json
if [[ -s $receipt ]]; then
  # One changed byte (a digit of the leaf index) and it no longer verifies.
  sed 's/"leafIndex": "\([0-9]\)/"leafIndex": "9\1/' "$receipt" >"$work/tampered.json"
  if cmp -s "$receipt" "$work/tampered.json"; then
    echo "could not tamper with $receipt"; fail=1
  elif "$root/build/default/client/samplanctl" receipt verify "$work/tampered.json" \
      --public-key "$work/var/audit-key.pem.vkey" >"$work/tampered.out" 2>&1; then
    echo "a tampered receipt verified"; cat "$work/tampered.out"; fail=1
  elif ! grep -q "verification FAILED" "$work/tampered.out"; then
    echo "a tampered receipt: no clear failure"; cat "$work/tampered.out"; fail=1
  fi
else
  echo "the receipt was not written ($receipt)"; fail=1
fi
words=$work/var/family/consent-receipt.html
if [[ ! -s $words ]]; then
  echo "the receipt in words was not written ($words)"; fail=1
else
  grep -qF '<h1>Kvitto på samtycke</h1>' "$words" ||
    { echo "$words is not the receipt of a consent"; fail=1; }
  if grep -qE '20160510-?2381|19850301-?1119|198[0-9]{5}-?[0-9]{4}' "$words"; then
    echo "$words shows an identity number"; fail=1
  fi
fi
html=$work/var/family/alva-sip.html
pdf=$work/var/family/alva-sip.pdf
if [[ ! -s $html || ! -s $pdf ]]; then
  echo "the family's copy was not written ($html, $pdf)"; fail=1
else
  # Read by the school: BUP's health note is one sentence, never its text.
  grep -qF 'har information om hälsa som ni inte har sagt ja till att dela med' "$html" ||
    { echo "$html lacks the withheld sentence"; fail=1; }
  if grep -qE 'Sleep problems|20160510-?2381' "$html"; then
    echo "$html shows a withheld entry or an identity number"; fail=1
  fi
  [[ $(head -c 5 "$pdf") == "%PDF-" ]] || { echo "$pdf is not a PDF"; fail=1; }
  if command -v pdftotext >/dev/null; then
    pdftotext -enc UTF-8 "$pdf" "$work/family.txt"
    grep -qF 'Weekly sessions with a BUP counsellor' "$work/family.txt" ||
      { echo "the PDF lacks the intervention the HTML shows"; fail=1; }
  fi
fi
# The service log must not contain the demo's identity numbers.
if grep -qE '20160510-?2381|19850301-?1119' "$work/var/server.log"; then
  echo "the service log contains an identity number"; fail=1
fi
if [[ $fail -ne 0 ]]; then cat "$out"; exit 1; fi
echo "quickstart demo: ok"
