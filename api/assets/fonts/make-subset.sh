#!/usr/bin/env bash
# Rebuilds NotoSansSC-Certificate.otf: Noto Sans CJK SC Regular (SIL OFL 1.1)
# cut down to ASCII, CJK punctuation, full-width forms and every hanzi of
# GBK, so that any name a resident registry holds renders, at a size the
# binary can carry. Needs apt-get (Debian) and python3 with venv.
# Usage: bash api/assets/fonts/make-subset.sh   (from the repository root)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get download fonts-noto-cjk
dpkg-deb -x fonts-noto-cjk_*.deb x
python3 -m venv venv
venv/bin/pip install -q 'fonttools==4.*'
# Every character GBK encodes that is a CJK ideograph, plus ASCII, CJK
# symbols and punctuation (U+3000-303F) and full-width forms (U+FF00-FFEF).
venv/bin/python - <<'PY' > chars.txt
import unicodedata
chars = set(chr(c) for c in range(0x20, 0x7F))
chars.update(chr(c) for c in range(0x3000, 0x3040))
chars.update(chr(c) for c in range(0xFF00, 0xFFF0))
chars.update("·—‘’“”…※℃№、")
for lead in range(0x81, 0xFF):
    for trail in range(0x40, 0xFF):
        try:
            ch = bytes([lead, trail]).decode("gbk")
        except UnicodeDecodeError:
            continue
        if "CJK" in unicodedata.name(ch, ""):
            chars.add(ch)
print("".join(sorted(chars)))
PY
# Font number 2 of the collection is Noto Sans CJK SC.
venv/bin/pyftsubset x/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc \
  --font-number=2 --text-file=chars.txt --no-hinting \
  --layout-features='' --name-IDs='*' --name-legacy \
  --output-file="$here/NotoSansSC-Certificate.otf"
ls -l "$here/NotoSansSC-Certificate.otf"
