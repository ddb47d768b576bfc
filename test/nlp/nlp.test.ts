import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  MAX_KEYWORDS,
  MAX_TEXT_LENGTH,
  analyzeText,
  detectLanguage,
  sentences,
  tokenize,
} from '../../src/nlp/index.js';

const hasLoneSurrogate = (s: string) =>
  /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

describe('nlp: language', () => {
  test('English, French, German, Spanish, Italian and Japanese sentences', () => {
    const cases: [string, string][] = [
      ['The weather is nice today and I would like to go for a long walk.', 'en'],
      ['Je voudrais réserver une table pour deux personnes ce soir.', 'fr'],
      ['Ich möchte heute Abend einen Tisch für zwei Personen reservieren.', 'de'],
      ['Me gustaría reservar una mesa para dos personas esta noche.', 'es'],
      ['Vorrei prenotare un tavolo per due persone stasera.', 'it'],
      ['今日はいい天気ですね', 'ja'],
    ];
    for (const [text, lang] of cases) {
      assert.equal(detectLanguage(text), lang, text);
      assert.equal(analyzeText(text).language, lang, text);
    }
  });

  test("'und' when there is nothing to tell from", () => {
    for (const text of ['', '   ', 'ok', '12345', '😀😀😀', '$ % &'])
      assert.equal(detectLanguage(text), 'und', text);
  });
});

describe('nlp: analyzeText', () => {
  test('entities of a payment sentence: money, date, email', () => {
    const f = analyzeText('I paid $250 on 12 March 2024, mail me at a@b.com');
    assert.deepEqual(f.entities, [
      { type: 'MONEY', value: '$250' },
      { type: 'DATE', value: '12 March 2024' },
      { type: 'EMAIL', value: 'a@b.com' },
    ]);
    assert.equal(f.language, 'en');
    assert.equal(f.sentences, 1);
    assert.equal(f.tokens, 10); // i paid 250 on 12 march 2024 mail me at (punctuation, $ and the email excluded)
  });

  test('social-media entities and emoji are kept intact', () => {
    const f = analyzeText('Loved it 😀 #happy @bob https://example.com 50% off, 3rd visit');
    const types = f.entities.map((e) => e.type);
    for (const t of ['EMOJI', 'HASHTAG', 'MENTION', 'URL', 'PERCENT', 'ORDINAL'])
      assert.ok(types.includes(t), t);
    assert.ok(f.entities.some((e) => e.value === '😀'));
  });

  test('keywords: most frequent content lemmas, ties alphabetical, independent of sentence order', () => {
    const a =
      'We saw zebras in the park. The children fed the zebras. A gardener planted trees near the park.';
    const b =
      'A gardener planted trees near the park. The children fed the zebras. We saw zebras in the park.';
    const ka = analyzeText(a).keywords;
    assert.deepEqual(ka.slice(0, 2), ['park', 'zebra']);
    assert.deepEqual(ka, [...ka.slice(0, 2), ...ka.slice(2).sort()]);
    assert.deepEqual(analyzeText(b).keywords, ka);
    assert.deepEqual(analyzeText(a).keywords, ka); // same input, same answer
    for (const stop of ['the', 'we', 'a', 'in']) assert.ok(!ka.includes(stop), stop);
    const many = Array.from({ length: 30 }, (_, i) => `word${String.fromCharCode(97 + (i % 26))}${i}`).join(
      ' ',
    );
    assert.equal(analyzeText(many).keywords.length, MAX_KEYWORDS);
  });

  test('keywords of French text leave out French function words', () => {
    const f = analyzeText(
      'Je voudrais réserver une table pour deux personnes ce soir. La table est près de la fenêtre.',
    );
    assert.equal(f.keywords[0], 'table');
    for (const stop of ['je', 'une', 'pour', 'ce', 'la', 'de', 'est'])
      assert.ok(!f.keywords.includes(stop), stop);
  });

  test('sentiment is positive, negative or neutral within [-1, 1]', () => {
    const pos = analyzeText('I love this product, it is wonderful and the staff were great!').sentiment;
    const neg = analyzeText('This is awful. I hate it, the service was terrible.').sentiment;
    assert.ok(pos > 0.2 && pos <= 1, String(pos));
    assert.ok(neg < -0.2 && neg >= -1, String(neg));
    assert.equal(analyzeText('The invoice number is 42.').sentiment, 0);
  });

  test('empty and blank text', () => {
    const zero = { language: 'und', sentences: 0, tokens: 0, keywords: [], entities: [], sentiment: 0 };
    assert.deepEqual(analyzeText(''), zero);
    assert.deepEqual(analyzeText(' \n\t '), zero);
    assert.deepEqual(tokenize(''), []);
    assert.deepEqual(sentences('   '), []);
  });

  test('huge text: only the first MAX_TEXT_LENGTH characters count, never half an emoji', () => {
    const sentence = 'The parcel arrived late and the box was damaged. ';
    const huge = sentence.repeat(Math.ceil((3 * MAX_TEXT_LENGTH) / sentence.length));
    const f = analyzeText(huge);
    assert.equal(f.tokens, tokenize(huge.slice(0, MAX_TEXT_LENGTH)).length);
    assert.ok(f.sentences <= Math.ceil(MAX_TEXT_LENGTH / sentence.length));
    assert.deepEqual(f.keywords.slice(0, 1).length, 1);

    // An emoji straddling the cut is dropped whole.
    const edge = 'a '.repeat((MAX_TEXT_LENGTH - 1) / 2) + '😀😀 tail';
    for (const s of [
      ...tokenize(edge),
      ...sentences(edge),
      ...analyzeText(edge).entities.map((e) => e.value),
    ]) {
      assert.ok(!hasLoneSurrogate(s));
    }
  });

  test('unicode-safe: accents, CJK, emoji, control characters and lone surrogates do not throw', () => {
    const f = analyzeText('Naïve café Ünïcödé 😀 今日は \u0000 \uD800 done.');
    assert.ok(f.tokens >= 4);
    assert.ok(f.entities.some((e) => e.type === 'EMOJI'));
    assert.deepEqual(tokenize('naïve café Ünïcödé'), ['naïve', 'café', 'ünïcödé']);
  });

  test('bad call: a non-string is a TypeError', () => {
    assert.throws(() => analyzeText(undefined as unknown as string), TypeError);
    assert.throws(() => tokenize(42 as unknown as string), TypeError);
  });
});

describe('nlp: tokenize and sentences', () => {
  test('tokens are lower case words and numbers only', () => {
    assert.deepEqual(tokenize('Hello, WORLD! 42 times... https://x.com #tag @bob 😀'), [
      'hello',
      'world',
      '42',
      'times',
    ]);
    assert.deepEqual(tokenize("Don't stop"), ['do', 'not', 'stop']);
  });

  test('sentences as written', () => {
    assert.deepEqual(sentences('Hello there. How are you? I am fine!'), [
      'Hello there.',
      'How are you?',
      'I am fine!',
    ]);
    assert.deepEqual(sentences('Dr. Smith arrived at 5 p.m. yesterday.').length, 1);
  });
});
