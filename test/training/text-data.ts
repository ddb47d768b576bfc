// A seeded synthetic text dataset for the text-feature tests and bench/text.ts: short product
// reviews whose words depend on the class (pos / neg / neu), with shared filler words, rare
// words, punctuation and mixed case, plus a numeric and a categorical column.
import { createRng } from '../../src/ml/rng.js';

const CLASS_WORDS: Readonly<Record<string, readonly string[]>> = {
  pos: [
    'great',
    'excellent',
    'love',
    'perfect',
    'wonderful',
    'happy',
    'amazing',
    'best',
    'recommend',
    'fast',
  ],
  neg: ['bad', 'terrible', 'awful', 'hate', 'broken', 'worst', 'poor', 'refund', 'slow', 'disappointed'],
  neu: [
    'okay',
    'average',
    'fine',
    'decent',
    'expected',
    'normal',
    'acceptable',
    'standard',
    'fair',
    'ordinary',
  ],
};
const COMMON = [
  'the',
  'product',
  'it',
  'was',
  'and',
  'this',
  'is',
  'very',
  'delivery',
  'price',
  'quality',
  'to',
  'with',
  'my',
  'for',
  'box',
  'item',
  'arrived',
  'after',
  'days',
  'service',
  'color',
  'size',
];
export const CLASSES = ['neg', 'neu', 'pos'] as const;

export interface Reviews {
  readonly review: string[];
  readonly stars: number[];
  readonly channel: string[];
  readonly label: string[];
}

/** `n` reviews, the same for the same seed. `signal` is the chance that a word is a class word. */
export function syntheticReviews(n: number, seed: number, signal = 0.22): Reviews {
  const rng = createRng(seed);
  const pick = <T>(a: readonly T[]): T => a[rng.int(a.length)]!;
  const out: Reviews = { review: [], stars: [], channel: [], label: [] };
  for (let i = 0; i < n; i++) {
    const label = pick(CLASSES);
    const length = 4 + rng.int(14);
    const words: string[] = [];
    for (let k = 0; k < length; k++) {
      const u = rng.next();
      let w: string;
      if (u < signal) w = pick(CLASS_WORDS[label]!);
      else if (u < signal + 0.06) w = pick(CLASS_WORDS[pick(CLASSES)]!);
      else if (u < 0.9) w = pick(COMMON);
      else w = `w${rng.int(400)}`;
      if (rng.next() < 0.1) w = w.toUpperCase();
      else if (k === 0) w = w[0]!.toUpperCase() + w.slice(1);
      words.push(w + (rng.next() < 0.1 ? pick([',', '.', '!', ';']) : ''));
    }
    out.review.push(words.join(' ') + pick(['.', '!', '', '...']));
    const base = label === 'pos' ? 4 : label === 'neg' ? 2 : 3;
    out.stars.push(Math.min(5, Math.max(1, base + rng.int(3) - 1)));
    out.channel.push(pick(['web', 'app', 'store']));
    out.label.push(label);
  }
  return out;
}

/** The reviews as CSV (quoted text), columns review, stars, channel, label. */
export function reviewsCsv(r: Reviews): string {
  const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
  const lines = ['review,stars,channel,label'];
  for (let i = 0; i < r.review.length; i++)
    lines.push(`${q(r.review[i]!)},${r.stars[i]},${r.channel[i]},${r.label[i]}`);
  return lines.join('\n') + '\n';
}
