/**
 * Seeded pseudo-random numbers for everything in `ml/` that shuffles or samples.
 *
 * Generator: xoshiro128** 1.1 — D. Blackman and S. Vigna, "Scrambled linear pseudorandom number
 * generators", ACM Trans. Math. Softw. 47(4), 2021 (https://prng.di.unimi.it/). It works on 32-bit
 * words only, so it runs at full speed on JavaScript's int32 arithmetic without BigInt.
 * Seeding: the 128-bit state is filled from the seed by SplitMix64 (G. Steele, D. Lea, C. Flood,
 * "Fast splittable pseudorandom number generators", OOPSLA 2014), as the authors recommend, so
 * that nearby seeds (0, 1, 2, ...) give unrelated streams and the state is never all zero.
 */

/** A source of uniform random numbers. Pass one in wherever randomness is needed. */
export interface Rng {
  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number;
  /** A uniform double in [0, 1) with 53 random bits. */
  next(): number;
  /** A uniform integer in [0, n) without modulo bias; `n` a positive integer. */
  int(n: number): number;
}

const TWO_32 = 4294967296;
const TWO_53 = 9007199254740992;

/** Creates a xoshiro128** generator from an integer seed; the same seed always gives the same stream. */
export function createRng(seed: number): Rng {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
  // SplitMix64 with BigInt: four 32-bit state words from two 64-bit outputs; only run once per generator.
  const mask64 = (1n << 64n) - 1n;
  let z = BigInt.asUintN(64, BigInt(seed));
  const splitmix64 = (): bigint => {
    z = (z + 0x9e3779b97f4a7c15n) & mask64;
    let r = z;
    r = ((r ^ (r >> 30n)) * 0xbf58476d1ce4e5b9n) & mask64;
    r = ((r ^ (r >> 27n)) * 0x94d049bb133111ebn) & mask64;
    return r ^ (r >> 31n);
  };
  const a = splitmix64();
  const b = splitmix64();
  return xoshiro128StarStar([
    Number(a & 0xffffffffn),
    Number(a >> 32n),
    Number(b & 0xffffffffn),
    Number(b >> 32n),
  ]);
}

/**
 * xoshiro128** from an explicit 128-bit state (four 32-bit words, not all zero), for reproducing
 * the reference implementation's test vectors. Prefer `createRng(seed)`.
 */
export function xoshiro128StarStar(state: readonly [number, number, number, number]): Rng {
  let [s0, s1, s2, s3] = state.map((w) => w | 0) as [number, number, number, number];
  if ((s0 | s1 | s2 | s3) === 0) throw new RangeError('xoshiro128** state must not be all zero');

  const nextUint32 = (): number => {
    // result = rotl(s1 * 5, 7) * 9; Math.imul keeps the products in 32 bits.
    const t = Math.imul(s1, 5);
    const result = Math.imul((t << 7) | (t >>> 25), 9) >>> 0;
    const u = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= u;
    s3 = (s3 << 11) | (s3 >>> 21);
    return result;
  };

  return {
    nextUint32,
    next(): number {
      // 27 + 26 high bits of two outputs → a multiple of 2⁻⁵³, the same construction as numpy's random_sample.
      const hi = nextUint32() >>> 5;
      const lo = nextUint32() >>> 6;
      return (hi * 67108864 + lo) / TWO_53;
    },
    int(n: number): number {
      if (!Number.isSafeInteger(n) || n <= 0)
        throw new RangeError(`int(n) needs a positive integer, got ${n}`);
      if (n <= TWO_32) {
        // Rejection sampling: drop the top 2³² mod n values so every residue is equally likely.
        const limit = TWO_32 - (TWO_32 % n);
        for (;;) {
          const r = nextUint32();
          if (r < limit) return r % n;
        }
      }
      // Beyond 32 bits, scale 53 random bits; the bias n / 2⁵³ is below anything measurable here.
      return Math.floor(this.next() * n);
    },
  };
}

/** A writable indexable sequence: arrays and typed arrays alike. */
export interface MutableArrayLike<T> {
  readonly length: number;
  [index: number]: T;
}

/**
 * Shuffles in place with the Fisher–Yates algorithm in Durstenfeld's form (Knuth, TAOCP vol. 2,
 * Algorithm 3.4.2 P): every permutation is equally likely given a uniform `rng.int`. Returns `a`.
 */
export function shuffle<A extends MutableArrayLike<unknown>>(a: A, rng: Rng): A {
  const b: MutableArrayLike<unknown> = a;
  for (let i = b.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const tmp = b[i];
    b[i] = b[j];
    b[j] = tmp;
  }
  return a;
}
