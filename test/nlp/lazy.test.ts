// Runs in its own process (node --test isolates files): importing nlp/ must not load the models.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { preloadNlp, tokenize } from '../../src/nlp/index.js';

const loaded = (pkg: string) =>
  Object.keys(createRequire(import.meta.url).cache).some((p) => p.includes(`/node_modules/${pkg}/`));

test('nlp: the models load on first use, once', () => {
  assert.equal(loaded('wink-eng-lite-web-model'), false);
  assert.equal(loaded('tinyld'), false);
  assert.deepEqual(tokenize('Loaded now'), ['loaded', 'now']);
  assert.equal(loaded('wink-eng-lite-web-model'), true);
  preloadNlp();
  assert.equal(loaded('tinyld'), true);
});
