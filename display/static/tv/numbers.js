// Indonesian number words ("terbilang"), for announcing ticket and counter numbers.
//   terbilang(12) === "dua belas", terbilang(1234) === "seribu dua ratus tiga puluh empat"
// terbilangWords() gives the same as a list: the announcer plays one clip per word.

const UNITS = ["nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan"];

const SCALES = [
  [1e12, "triliun"],
  [1e9, "miliar"],
  [1e6, "juta"],
];

function below1000(n) {
  if (n === 0) return [];
  if (n < 10) return [UNITS[n]];
  if (n === 10) return ["sepuluh"];
  if (n === 11) return ["sebelas"];
  if (n < 20) return [UNITS[n - 10], "belas"];
  if (n < 100) return [UNITS[Math.floor(n / 10)], "puluh", ...below1000(n % 10)];
  const hundreds = Math.floor(n / 100);
  return [...(hundreds === 1 ? ["seratus"] : [UNITS[hundreds], "ratus"]), ...below1000(n % 100)];
}

function below1e15(n) {
  for (const [size, word] of SCALES) {
    if (n >= size) return [...below1000(Math.floor(n / size)), word, ...below1e15(n % size)];
  }
  if (n >= 2000) return [...below1000(Math.floor(n / 1000)), "ribu", ...below1000(n % 1000)];
  if (n >= 1000) return ["seribu", ...below1000(n % 1000)];
  return below1000(n);
}

export function terbilangWords(value) {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0 || n >= 1e15) throw new RangeError(`terbilang: ${value}`);
  return n === 0 ? ["nol"] : below1e15(n);
}

export function terbilang(value) {
  return terbilangWords(value).join(" ");
}
