#!/usr/bin/env bash
# Draws every lesson's projector page (`tutor lesson NAME --format html`) in a real headless
# Chromium and checks that it rendered: every picture decoded, every formula laid out as
# MathML (a fraction's numerator above its denominator), no raw LaTeX (\frac, $$) left in the
# page's text, and a screenshot that is not blank. Installs Debian's chromium when it is missing.
#
#   bash scripts/html-check.sh [TUTOR] [FOLDER]
#
# TUTOR defaults to .build/release/tutor; the pages and screenshots (LESSON.html, LESSON.png)
# are kept in FOLDER (default: a temporary folder, removed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
tutor=${1:-.build/release/tutor}
if [ -n "${2:-}" ]; then
  folder=$(mkdir -p "$2" && cd "$2" && pwd)
else
  folder=$(mktemp -d)
  trap 'rm -rf "$folder"' EXIT
fi

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "Installing chromium ..." >&2
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
  browser=$(command -v chromium)
fi
# --no-sandbox: the sandbox needs user namespaces, which containers and root often lack.
chrome() { "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --mute-audio \
                      --no-first-run --disable-extensions "$@" 2>/dev/null; }

# Added to a copy of each page (the page itself has no script): measures what the browser drew
# and writes it into the page, where --dump-dom shows it.
probe='<script>
window.addEventListener("load", () => {
  const images = [...document.images];
  const decoded = images.filter(i => i.complete && i.naturalWidth > 0).length;
  const maths = [...document.querySelectorAll("math")];
  const drawn = maths.filter(m => m.getBoundingClientRect().height > 0).length;
  // A fraction laid out as MathML puts its numerator above its denominator.
  const fractions = [...document.querySelectorAll("mfrac")];
  const stacked = fractions.filter(f => f.children.length === 2 &&
    f.children[0].getBoundingClientRect().bottom <= f.children[1].getBoundingClientRect().top + 1).length;
  const text = document.body.innerText;
  const latex = (text.match(/\\[A-Za-z]+|\$\$/g) || []).length;
  const report = document.createElement("pre");
  report.id = "tutor-check";
  report.textContent = `images ${images.length} decoded ${decoded} math ${maths.length} drawn ${drawn} ` +
                       `fractions ${fractions.length} stacked ${stacked} latex ${latex}`;
  document.body.appendChild(report);
});
</script>'

start=$(date +%s)
failed=0
for lesson in intro cam gradcam ablationcam lrp ig; do
  page="$folder/$lesson.html"
  "$tutor" lesson "$lesson" --format html --out "$page"
  # The page as a person sees it, 1280 pixels wide (a projector's width).
  chrome --window-size=1280,3000 --screenshot="$folder/$lesson.png" "file://$page" >/dev/null
  probed="$folder/$lesson.probe.html"
  { cat "$page"; echo "$probe"; } > "$probed"    # a script after </html> still runs, in the body
  report=$(chrome --virtual-time-budget=10000 --dump-dom "file://$probed" | grep -o 'images [0-9]* decoded [0-9]* math [0-9]* drawn [0-9]* fractions [0-9]* stacked [0-9]* latex [0-9]*' || true)
  rm -f "$probed"
  read -r _ images _ decoded _ maths _ drawn _ fractions _ stacked _ latex <<<"${report:-x 0 x -1 x 0 x -1 x 0 x -1 x -1}"
  expected_images=$(grep -o 'src="data:image/png;base64,' "$page" | wc -l)
  expected_maths=$(grep -o '<math ' "$page" | wc -l)
  screenshot=$(stat -c %s "$folder/$lesson.png" 2>/dev/null || echo 0)
  problems=()
  [ -n "$report" ] || problems+=("the browser wrote no report")
  [ "$images" -eq "$expected_images" ] && [ "$decoded" -eq "$images" ] || problems+=("$decoded of $expected_images pictures decoded")
  [ "$maths" -eq "$expected_maths" ] && [ "$drawn" -eq "$maths" ] || problems+=("$drawn of $expected_maths formulas drawn")
  [ "$stacked" -eq "$fractions" ] || problems+=("$stacked of $fractions fractions laid out as MathML")
  [ "$latex" -eq 0 ] || problems+=("$latex pieces of raw LaTeX in the text")
  [ "$screenshot" -gt 20000 ] || problems+=("screenshot of $screenshot bytes (blank?)")
  if [ "${#problems[@]}" -eq 0 ]; then
    echo "✓ $lesson: $images pictures decoded, $maths formulas drawn ($fractions fractions stacked), no raw LaTeX, screenshot $((screenshot / 1024)) KiB"
  else
    echo "✗ $lesson: $(IFS=';'; echo "${problems[*]}")"
    failed=$((failed + 1))
  fi
done
echo "html-check: $(( $(date +%s) - start )) s; pages and screenshots in $folder"
[ "$failed" -eq 0 ] || { echo "$failed lesson page(s) did not render" >&2; exit 1; }
