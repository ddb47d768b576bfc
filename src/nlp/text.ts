import type { ItsFunction } from 'wink-nlp';
import { languageDetector, winkNlp } from './engine.js';
import { isStopWord } from './stopwords.js';

/** Characters of input analysed; the rest is ignored (cut on a character boundary). */
export const MAX_TEXT_LENGTH = 100_000;
/** Characters given to the language detector; more does not change its answer, only its time. */
export const LANGUAGE_SAMPLE_LENGTH = 10_000;
export const MAX_KEYWORDS = 10;
/** Entities reported at most, in order of appearance. */
export const MAX_ENTITIES = 1_000;

export interface TextEntity {
  /** wink's entity type: DATE, TIME, DURATION, MONEY, PERCENT, CARDINAL, ORDINAL, EMAIL, URL, HASHTAG, MENTION, EMOJI, EMOTICON ... */
  type: string;
  /** The text of the entity as written. */
  value: string;
}

export interface TextFeatures {
  /** ISO 639-1 code from tinyld ('en', 'fr', ...), 'und' when unknown or too short to tell. */
  language: string;
  sentences: number;
  tokens: number;
  /** Up to 10 most frequent content words (lemmas for English, lower case otherwise), ties alphabetical. */
  keywords: string[];
  entities: TextEntity[];
  /** wink's sentiment score of the whole text, -1 (negative) .. 1 (positive); 0 for no text. */
  sentiment: number;
}

/** The first MAX_TEXT_LENGTH characters, never ending on half a surrogate pair. */
function bounded(text: string, max = MAX_TEXT_LENGTH): string {
  if (typeof text !== 'string') throw new TypeError(`text must be a string, got ${typeof text}`);
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;
const STARTS_WITH_LETTER = /^\p{L}/u;

/** Word and number tokens (wink types; an `unk` token counts when it holds a letter or digit, e.g. CJK runs). */
function isWordLike(type: string, normal: string): boolean {
  return type === 'word' || type === 'number' || (type === 'unk' && LETTER_OR_DIGIT.test(normal));
}

/** ISO 639-1 language code of the text, 'und' when tinyld cannot tell (short or symbol-only text). */
export function detectLanguage(text: string): string {
  const sample = bounded(text, LANGUAGE_SAMPLE_LENGTH);
  if (sample.trim() === '') return 'und';
  const code = languageDetector().detect(sample);
  return code === '' ? 'und' : code;
}

/** Normalised tokens: lower case, words and numbers only (punctuation, symbols, emoji, URLs dropped). */
export function tokenize(text: string): string[] {
  const t = bounded(text);
  if (t.trim() === '') return [];
  const nlp = winkNlp();
  const tokens = nlp.readDoc(t).tokens();
  const types = tokens.out(nlp.its.type) as string[];
  const normals = tokens.out(nlp.its.normal) as string[];
  return normals.filter((n, i) => isWordLike(types[i]!, n));
}

/** The sentences of the text, as written (wink's sentence boundary detection). */
export function sentences(text: string): string[] {
  const t = bounded(text);
  if (t.trim() === '') return [];
  return (winkNlp().readDoc(t).sentences().out() as string[]).filter((s) => s.trim() !== '');
}

/** Language, sizes, keywords, entities and sentiment of a text; see docs/nlp.md. */
export function analyzeText(text: string): TextFeatures {
  const t = bounded(text);
  const language = detectLanguage(t);
  if (t.trim() === '') return { language, sentences: 0, tokens: 0, keywords: [], entities: [], sentiment: 0 };

  const nlp = winkNlp();
  const its = nlp.its;
  const doc = nlp.readDoc(t);
  const tokens = doc.tokens();
  const types = tokens.out(its.type) as string[];
  const normals = tokens.out(its.normal) as string[];
  const stop = tokens.out(its.stopWordFlag) as unknown as boolean[];
  // Lemmas come from the English model: for other languages the lower-case form is used instead.
  const forms =
    language === 'en' || language === 'und'
      ? (tokens.out(its.lemma as unknown as ItsFunction<string>) as string[])
      : normals;

  const counts = new Map<string, number>();
  for (let i = 0; i < types.length; i++) {
    const form = forms[i]!.toLowerCase();
    if (types[i] !== 'word' || form.length < 2 || !STARTS_WITH_LETTER.test(form)) continue;
    // wink flags English function words; other languages use the lists in stopwords.ts.
    if (stop[i] || isStopWord(language, form)) continue;
    counts.set(form, (counts.get(form) ?? 0) + 1);
  }
  const keywords = [...counts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, MAX_KEYWORDS)
    .map(([w]) => w);

  const entities: TextEntity[] = [];
  const details = doc.entities().out(its.detail) as unknown as { type: string; value: string }[];
  for (const d of details.slice(0, MAX_ENTITIES)) entities.push({ type: d.type, value: d.value });

  const sentenceCount = (doc.sentences().out() as string[]).filter((s) => s.trim() !== '').length;
  const sentiment = Number(doc.out(its.sentiment));
  return {
    language,
    sentences: sentenceCount,
    tokens: types.filter((ty, i) => isWordLike(ty, normals[i]!)).length,
    keywords,
    entities,
    sentiment: Number.isFinite(sentiment) ? Math.max(-1, Math.min(1, sentiment)) : 0,
  };
}
