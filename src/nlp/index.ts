// Text features for rules and models: language (tinyld), sentences, tokens, keywords, entities and
// sentiment (wink-nlp, English model).
export { preloadNlp } from './engine.js';
export {
  LANGUAGE_SAMPLE_LENGTH,
  MAX_ENTITIES,
  MAX_KEYWORDS,
  MAX_TEXT_LENGTH,
  analyzeText,
  detectLanguage,
  sentences,
  tokenize,
  type TextEntity,
  type TextFeatures,
} from './text.js';
