# Helpers the end-to-end scripts share; source it.

# pnr YYYYMMDD NNN: a valid Swedish identity number (12 digits) for a birth
# date and a serial number, with its Luhn check digit.
pnr() {
  local digits="${1:2}$2" sum=0 i d
  for ((i = 0; i < 9; i++)); do
    d=${digits:i:1}
    if ((i % 2 == 0)); then d=$((d * 2)); ((d > 9)) && d=$((d - 9)); fi
    sum=$((sum + d))
  done
  echo "${1}${2}$(((10 - sum % 10) % 10))"
}
