// The NLP engines, loaded on first use: wink-nlp with its English model (~0.3 s, ~tens of MB) and
// tinyld's language profiles (~0.8 s). Both are CommonJS; createRequire loads them synchronously so
// the public functions stay synchronous and a process that never analyses text never pays for them.
import { createRequire } from 'node:module';
import type * as TinyldModule from 'tinyld';
import type { Model, WinkMethods } from 'wink-nlp';

type WinkFactory = (model: Model, pipe?: string[]) => WinkMethods;
type Tinyld = typeof TinyldModule;

const require = createRequire(import.meta.url);

let wink: WinkMethods | undefined;
let tinyld: Tinyld | undefined;

/** The one shared wink-nlp instance (English lite web model, full pipeline). */
export function winkNlp(): WinkMethods {
  if (!wink) {
    const factory = require('wink-nlp') as WinkFactory;
    const model = require('wink-eng-lite-web-model') as Model;
    wink = factory(model);
  }
  return wink;
}

/** tinyld's detector (the "normal" profile set: 60+ languages). */
export function languageDetector(): Tinyld {
  tinyld ??= require('tinyld') as Tinyld;
  return tinyld;
}

/** Loads both engines now, e.g. at server start, so the first request does not wait for them. */
export function preloadNlp(): void {
  winkNlp();
  languageDetector();
}
