// "Did you mean …?": the candidate nearest to a word by edit distance, when it is near enough
// to be a likely misspelling (at most 2 edits, and at most a third of the word; two letters
// swapped count as one edit, as in "emial"). Names that differ only in their numbers are
// different names (step_1, step_2).
import { distance } from 'fastest-levenshtein';

export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.max(1, Math.min(2, Math.floor(word.length / 3)));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (candidate === word) return undefined;
    // webinar_1 and webinar_2 are two names, not a typo.
    if (withoutDigits(candidate) === withoutDigits(word)) continue;
    const d = swapped(word, candidate) ? 1 : distance(word, candidate);
    if (d <= limit && d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

const withoutDigits = (name: string) => name.replace(/\d+/g, '#');

/** Whether b is a with two neighbouring letters swapped. */
function swapped(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  const differ = [...a].flatMap((char, i) => (char === b[i] ? [] : [i]));
  return differ.length === 2 && differ[1] === differ[0]! + 1 && a[differ[0]!] === b[differ[1]!] && a[differ[1]!] === b[differ[0]!];
}
