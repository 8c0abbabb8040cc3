#!/usr/bin/env bash
# Regenerates the lobby TV's offline voice clips and manifest.json in this folder.
#
# The clips let a TV without an Indonesian speech voice still announce calls:
# announcer.js joins them back to back with Web Audio ("nomor antrean" + "a" +
# "dua" + "belas" + "silakan menuju" + "loket" + "lima"). Made once and committed;
# rerun only to change the voice or add words.
#
# Needs: espeak-ng (voice "id") and sox with ogg/vorbis support.
#   apt-get install -y espeak-ng sox libsox-fmt-all
# Usage: display/static/voice/make_clips.sh   (writes next to itself)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
rate=22050          # Hz, mono: plenty for speech, small files
quality=2           # vorbis quality (-1..10)
voice="${LOKET_VOICE:-id}"
speed=150           # espeak words per minute
pitch=45

for tool in espeak-ng sox; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install -y espeak-ng sox libsox-fmt-all)" >&2; exit 1; }
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# speak FILE TEXT: one trimmed, normalised mono clip.
speak() {
    local file="$1" text="$2"
    espeak-ng -v "$voice" -s "$speed" -p "$pitch" -w "$work/raw.wav" "$text"
    sox "$work/raw.wav" -r "$rate" -c 1 -C "$quality" "$here/$file" \
        silence 1 0.01 0.5% reverse silence 1 0.01 0.5% reverse gain -n -1
}

rm -f "$here"/*.ogg

# Words of terbilang() and of the default announcement template: key = the word as
# written (what announcer.js looks up), value = the text espeak reads. "antrean" is the
# standard (KBBI) spelling of the default template; "antrian" stays for sites whose own
# template still uses it.
words=(
    nol satu dua tiga empat lima enam tujuh delapan sembilan
    sepuluh sebelas belas puluh seratus ratus seribu ribu juta
    nomor antrian antrean silakan menuju ke loket meja ruang layanan
)
phrases=("nomor antrian" "nomor antrean" "silakan menuju")
# Letters as Indonesians spell them.
declare -A letters=(
    [A]=a [B]=be [C]=ce [D]=de [E]=e [F]=ef [G]=ge [H]=ha [I]=i [J]=je [K]=ka
    [L]=el [M]=em [N]=en [O]=o [P]=pe [Q]=ki [R]=er [S]=es [T]=te [U]=u [V]=fe
    [W]=we [X]=eks [Y]=ye [Z]=zet
)

manifest_words=()
for word in "${words[@]}" "${phrases[@]}"; do
    file="kata-${word// /-}.ogg"
    speak "$file" "$word"
    manifest_words+=("    \"$word\": \"$file\"")
done

manifest_letters=()
for letter in $(printf '%s\n' "${!letters[@]}" | sort); do
    file="huruf-${letter,,}.ogg"
    speak "$file" "${letters[$letter]}"
    manifest_letters+=("    \"$letter\": \"$file\"")
done

calc() { awk "BEGIN { print $1 }"; }

# Two-tone "ding-dong" chime: bell-like partials with a soft attack and long decay.
tone() {
    local out="$1" freq="$2" length="$3"
    sox -n -r "$rate" -c 1 "$work/f.wav" synth "$length" sine "$freq" fade p 0.01 "$length" "$length"
    sox -n -r "$rate" -c 1 "$work/h.wav" synth "$length" sine "$(calc "$freq * 2")" \
        fade p 0.01 "$length" "$(calc "$length * 0.9")" vol 0.3
    sox -n -r "$rate" -c 1 "$work/o.wav" synth "$length" sine "$(calc "$freq * 3")" \
        fade p 0.005 "$(calc "$length * 0.4")" "$(calc "$length * 0.4")" vol 0.12
    sox -m "$work/f.wav" "$work/h.wav" "$work/o.wav" "$out"
}
tone "$work/ding.wav" 783.99 0.55   # G5
tone "$work/dong.wav" 622.25 0.95   # D#5 (a major third below)
sox "$work/ding.wav" "$work/dong.wav" -r "$rate" -c 1 -C "$quality" "$here/chime.ogg" \
    gain -n -3 pad 0 0.1

join() { local IFS=$'\n'; sed '$!s/$/,/' <<<"$*"; }
{
    echo "{"
    echo "  \"version\": 1,"
    echo "  \"voice\": \"espeak-ng $voice\","
    echo "  \"sample_rate\": $rate,"
    echo "  \"chime\": \"chime.ogg\","
    echo "  \"words\": {"
    join "${manifest_words[@]}"
    echo "  },"
    echo "  \"letters\": {"
    join "${manifest_letters[@]}"
    echo "  }"
    echo "}"
} >"$here/manifest.json"

echo "wrote $(ls "$here"/*.ogg | wc -l) clips, $(du -sh "$here" | cut -f1) in $here"
