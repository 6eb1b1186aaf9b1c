#!/usr/bin/env bash
# The family's copy in a real browser: each golden page of render/testdata is
# drawn by headless Chromium (Debian's chromium) to a PNG at a phone's width
# (360 CSS pixels) and at a desktop's (1024), and, with a probe added to a
# copy of the page, checked for layout overflow: nothing may be wider than
# the window (no sideways scrolling on a phone). Skipped, with a note, when
# chromium is not installed (apt install chromium); exit 77 tells ctest so.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
browser=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $browser ]]; then
  echo "family copy in a browser: skipped, chromium is not installed (apt install chromium)"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Root needs --no-sandbox; the profile and cache stay inside $work.
run() {
  HOME=$work timeout 60 "$browser" --headless=new --no-sandbox --disable-gpu \
    --no-first-run --disable-extensions --hide-scrollbars \
    --user-data-dir="$work/profile" "$@" 2>>"$work/chromium.log"
}
# Marks the body with the widest box's right edge and the window's width.
probe='<script>
(function () {
  var widest = document.documentElement.scrollWidth;
  document.querySelectorAll("body *").forEach(function (e) {
    widest = Math.max(widest, Math.ceil(e.getBoundingClientRect().right));
  });
  document.body.setAttribute("data-overflow",
      widest > window.innerWidth ? "yes " + widest + ">" + window.innerWidth : "no");
})();
</script>'
# The probe must see overflow where there is some: a control page with a
# box wider than a phone.
printf '<!DOCTYPE html><html lang="en"><body><div style="width:900px">wide</div></body></html>' \
  >"$work/control.html"
sed "s|</body>|$(printf '%s' "$probe" | tr '\n' ' ')</body>|" "$work/control.html" >"$work/control-probe.html"
if ! run --window-size=360,900 --dump-dom "file://$work/control-probe.html" |
    grep -q 'data-overflow="yes'; then
  echo "the overflow probe does not see a 900 px box in a 360 px window"
  tail -20 "$work/chromium.log"
  exit 1
fi
fail=0
pages=0
for page in "$root"/render/testdata/*.html; do
  name=$(basename "$page" .html)
  for width in 360 1024; do
    png=$work/$name-$width.png
    run --window-size="$width,900" --screenshot="$png" "file://$page" >/dev/null
    if [[ ! -s $png || $(head -c 8 "$png" | od -An -tx1 | tr -d ' \n') != 89504e470d0a1a0a ]]; then
      echo "$name at $width px: no PNG"; fail=1; continue
    fi
    probed=$work/$name-$width-probe.html
    sed "s|</body>|$(printf '%s' "$probe" | tr '\n' ' ')</body>|" "$page" >"$probed"
    overflow=$(run --window-size="$width,900" --dump-dom "file://$probed" |
      grep -o 'data-overflow="[^"]*"' || true)
    if [[ $overflow != 'data-overflow="no"' ]]; then
      echo "$name at $width px: layout overflow (${overflow:-no probe result})"; fail=1
    fi
    pages=$((pages + 1))
  done
done
if [[ $fail -ne 0 ]]; then
  tail -20 "$work/chromium.log"
  exit 1
fi
echo "family copy in a browser: $pages renderings, no overflow ($("$browser" --version 2>/dev/null))"
