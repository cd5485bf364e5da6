import { closest, distance } from "fastest-levenshtein";

/**
 * The candidate closest to `word`, when it is close enough to be a plausible typo:
 * at most max(2, ⌊len/3⌋) edits, so "sigmoud" → "sigmoid" but "foo" suggests nothing from ["relu"].
 */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0 || word === "") return undefined;
  // Case-only differences ("ReLU") are the most likely intent; check them first.
  const lower = word.toLowerCase();
  const sameCase = candidates.find((c) => c.toLowerCase() === lower);
  if (sameCase !== undefined && sameCase !== word) return sameCase;
  const best = closest(word, candidates as string[]);
  const limit = Math.max(2, Math.floor(word.length / 3));
  const d = distance(word, best);
  return d > 0 && d <= limit && d < Math.max(word.length, best.length) ? best : undefined;
}
