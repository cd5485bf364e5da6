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

/**
 * Words people use as a key, and the keys they mean, in order of preference: free text, and a layer's options
 * under the names of other layer types and frameworks. The spelling alone gets them wrong: "note" is two edits from
 * "name", "desc" is too far from "description", and "units" is nowhere near a convolution's "filters".
 */
const SAME_MEANING: readonly { readonly words: readonly string[]; readonly keys: readonly string[] }[] = [
  { words: ["desc", "descr"], keys: ["description", "comment"] },
  {
    words: ["note", "notes", "description", "doc", "docs", "remark", "remarks", "comments", "about", "info", "summary", "//", "_comment", "$comment"],
    keys: ["comment", "description"],
  },
  // the same option of a layer under another type's or another framework's name (Keras, PyTorch)
  { words: ["kernel", "kernel_size", "kernelsize", "pool_size", "poolsize", "window", "size"], keys: ["size", "kernel"] },
  { words: ["units", "filters", "out_channels", "out_features", "channels", "features"], keys: ["filters", "units"] },
  { words: ["strides"], keys: ["stride"] },
  { words: ["dilation_rate", "dilations"], keys: ["dilation"] },
  { words: ["epsilon"], keys: ["eps"] },
  { words: ["use_bias"], keys: ["bias"] },
];

/**
 * The key an unknown `key` most likely meant among `allowed`: the same key in another case, then a key of the
 * same meaning (note → comment), then the nearest spelling (unts → units).
 */
export function suggestKey(key: string, allowed: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const sameCase = allowed.find((k) => k.toLowerCase() === lower && k !== key);
  if (sameCase !== undefined) return sameCase;
  const meant = SAME_MEANING.find((g) => g.words.includes(lower))?.keys.find((k) => allowed.includes(k));
  return meant ?? suggest(key, allowed);
}
