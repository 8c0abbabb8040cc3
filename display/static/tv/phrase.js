// Turns a site's announcement template into what the TV shows and says.
//
//   fillTemplate("Nomor antrean {number}, silakan menuju {counter}", {number: "A012", counter: "Loket 5"})
//     → "Nomor antrean A012, silakan menuju Loket 5"
//   spokenSegments(same template, same values, known)
//     → [{word: "nomor antrean"}, {pause}, {letter: "A"}, {word: "dua"}, {word: "belas"}, {pause},
//        {word: "silakan menuju"}, {word: "loket"}, {word: "lima"}]
//
// Segments: {word} and {letter} have a voice clip; {speech: text} has none (spoken by the
// browser's speech synthesis if it has a voice, else skipped); {pause: ms} is silence.
// `known` = {words: Set of clip words (may hold two-word phrases), letters: Set of "A".."Z"}.

import { terbilangWords } from "./numbers.js";

export const DEFAULT_TEMPLATE = "Nomor antrean {number}, silakan menuju {counter}";
const PLACEHOLDER = /\{(number|counter|service)\}/g;
const TOKEN = /\d+|[\p{L}\p{M}'’-]+|[,.;:!?]/gu;
const COMMA_MS = 250;
const STOP_MS = 400;

export function fillTemplate(template, values) {
  return (template || DEFAULT_TEMPLATE).replace(PLACEHOLDER, (_, name) => values[name] ?? "");
}

// Ticket "A012" → letters then the number without leading zeros ("A, dua belas").
function ticketSegments(number, known) {
  const match = /^([A-Za-z]*)(\d*)$/.exec(String(number).trim());
  if (!match || (!match[1] && !match[2])) return textSegments(String(number), known);
  const segments = [{ pause: 150 }, ...[...match[1].toUpperCase()].map((letter) => ({ letter }))];
  if (match[2]) {
    if (match[1]) segments.push({ pause: 120 });
    for (const word of terbilangWords(Number.parseInt(match[2], 10))) segments.push({ word });
  }
  return segments;
}

// Free text: known words and phrases become clips, digits become number words, lone
// letters are spelled, everything else is gathered into speech runs.
export function textSegments(text, known) {
  const tokens = String(text).match(TOKEN) || [];
  const segments = [];
  let speech = [];
  const flush = () => {
    if (speech.length) segments.push({ speech: speech.join(" ") });
    speech = [];
  };
  for (let i = 0; i < tokens.length; i += 1) {
    const token = tokens[i];
    const lower = token.toLowerCase();
    if (/^[,;:]$/.test(token)) {
      flush();
      segments.push({ pause: COMMA_MS });
    } else if (/^[.!?]$/.test(token)) {
      flush();
      segments.push({ pause: STOP_MS });
    } else if (/^\d+$/.test(token)) {
      flush();
      for (const word of terbilangWords(Number.parseInt(token, 10))) segments.push({ word });
    } else if (i + 1 < tokens.length && known.words.has(`${lower} ${tokens[i + 1].toLowerCase()}`)) {
      flush();
      segments.push({ word: `${lower} ${tokens[i + 1].toLowerCase()}` });
      i += 1;
    } else if (known.words.has(lower)) {
      flush();
      segments.push({ word: lower });
    } else if (token.length === 1 && known.letters.has(token.toUpperCase())) {
      flush();
      segments.push({ letter: token.toUpperCase() });
    } else {
      speech.push(token);
    }
  }
  flush();
  return segments;
}

export function spokenSegments(template, values, known) {
  const source = template || DEFAULT_TEMPLATE;
  const segments = [];
  let last = 0;
  for (const match of source.matchAll(PLACEHOLDER)) {
    segments.push(...textSegments(source.slice(last, match.index), known));
    const value = values[match[1]] ?? "";
    if (match[1] === "number") segments.push(...ticketSegments(value, known));
    else segments.push(...textSegments(value, known));
    last = match.index + match[0].length;
  }
  segments.push(...textSegments(source.slice(last), known));
  // Drop leading and doubled pauses.
  return segments.filter((s, i) => !("pause" in s) || (i > 0 && !("pause" in segments[i - 1])));
}

// The same segments as one sentence for a speech-synthesis voice:
// "Nomor antrean, A, dua belas, silakan menuju loket lima".
export function speechText(segments) {
  const parts = [];
  for (const segment of segments) {
    if ("pause" in segment) {
      if (parts.length) parts[parts.length - 1] += ",";
    } else {
      parts.push(segment.word ?? segment.letter ?? segment.speech);
    }
  }
  const text = parts.join(" ").replace(/,$/, "");
  return text.charAt(0).toUpperCase() + text.slice(1);
}
