// Seeded random numbers for initParams: the whole generator state is one 32-bit word in a 1-element
// Uint32Array held by the caller. Only exact 32-bit integer arithmetic (Math.imul, >>> 0) is used, so a
// seed gives the same stream on every platform.

/** murmur3's 32-bit finaliser: a bijective avalanche mix of a 32-bit word (used to scramble seeds). */
export function rngMix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

// uses: rngMix32
/**
 * A fresh generator state for `seed`. Any number is accepted: the low 32 bits, the high bits and the
 * fraction (32 bits of it) of the seed are all mixed in, so 0, 1, 2, −1, 2**40 and 0.5 start unrelated
 * streams; distinct integer seeds below 2**32 give distinct states. NaN and ±Infinity act like 0.
 */
export function rngSeed(seed: number): Uint32Array {
  const x = Number.isFinite(seed) ? seed : 0;
  const whole = Math.floor(x);
  const lo = whole >>> 0;
  const hi = Math.floor(whole / 4294967296) >>> 0;
  const frac = ((x - whole) * 4294967296) >>> 0;
  const state = new Uint32Array(1);
  state[0] = rngMix32(rngMix32(rngMix32(lo + 0x9e3779b9) ^ hi) ^ frac);
  return state;
}

/** The next uniform number in [0, 1) (32 random bits), advancing `state[0]` (mulberry32). Allocation-free. */
export function rngNext(state: Uint32Array): number {
  const a = (state[0]! + 0x6d2b79f5) >>> 0;
  state[0] = a;
  let t = Math.imul(a ^ (a >>> 15), a | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

// uses: rngNext
/**
 * A standard normal number (mean 0, variance 1) by the Box–Muller transform, using two uniforms and
 * keeping only the cosine branch so no state beyond `state[0]` is needed. The radius uses 1 − u, which
 * lies in (0, 1], so log(0) never occurs. Allocation-free.
 */
export function rngNormal(state: Uint32Array): number {
  const u1 = 1 - rngNext(state);
  const u2 = rngNext(state);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** One round of the dropout generator: xor in a word, then murmur3's finaliser. */
export function rngRound(h: number, word: number): number {
  h = Math.imul(h ^ word, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

// uses: rngRound
/**
 * Dropout's random number: a uniform number in [0, 1) with 24 bits (exact in f32) hashed from the seed and
 * step (the network's state), the dropout layer's stream and the element's position s·size + e. No state
 * advances: the same arguments give the same number in the forward and the backward sweep.
 */
export function uniform24(seed: number, step: number, stream: number, counter: number): number {
  let h = rngRound(0x9e3779b9, seed | 0);
  h = rngRound(h, step | 0);
  h = rngRound(h, stream | 0);
  h = rngRound(h, counter | 0);
  return (h >>> 8) / 16777216;
}
