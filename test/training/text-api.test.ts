// A text column as a feature, end to end through the real HTTP server: upload a CSV with free
// text, train logistic regression and multinomial naive Bayes with it, deploy, predict by column
// name with a text value; the downloaded ONNX file says it needs ONNX Runtime's Tokenizer.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { inspectOnnx } from '../../src/onnx/inspect.js';
import { call, startTestServer, waitForJob, type TestServer } from '../support/server.js';
import { reviewsCsv, syntheticReviews } from './text-data.js';

describe('text features through the HTTP API', () => {
  let server: TestServer;
  let key: string;
  const train = (json: unknown) => call(server, 'POST', '/v1/projects/shop/training-jobs', { key, json });

  before(async () => {
    server = await startTestServer();
    key = server.adminKey!;
    await call(server, 'POST', '/v1/projects', { key, json: { name: 'shop' } });
    const up = await call(server, 'POST', '/v1/projects/shop/datasets?name=reviews', {
      key,
      body: reviewsCsv(syntheticReviews(600, 11)),
      type: 'text/csv',
    });
    assert.equal(up.status, 201, JSON.stringify(up.body));
    const review = up.body.schema.columns.find((c: { name: string }) => c.name === 'review');
    assert.equal(review.type, 'text', 'the upload infers free text');
  });
  after(() => server.dispose());

  test('logistic regression on review + stars + channel: train, deploy, predict with a text value', async () => {
    const submitted = await train({
      dataset: 'reviews',
      target: 'label',
      model: 'reviews-lr',
      params: { text: { ngrams: 2 } },
    });
    assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
    const job = await waitForJob(server, key, 'shop', submitted.body.id);
    assert.equal(job.status, 'succeeded', job.error);
    const mv = (await call(server, 'GET', '/v1/projects/shop/models/reviews-lr/versions/1', { key })).body;
    assert.equal(mv.algorithm, 'logistic_regression');
    assert.ok(mv.metrics.accuracy > 0.75, `accuracy ${mv.metrics.accuracy}`);
    assert.ok(mv.params.features.includes('review:great'));
    assert.ok(
      mv.params.features.some((f: string) => f.startsWith('review:') && f.includes(' ')),
      'bigrams',
    );
    assert.deepEqual(
      mv.signature.inputs.map((i: { name: string }) => i.name),
      ['review', 'stars', 'channel'],
    );

    const artifact = await fetch(`${server.url}/v1/projects/shop/models/reviews-lr/versions/1/artifact`, {
      headers: { authorization: `Bearer ${key}` },
    });
    assert.equal(artifact.status, 200);
    const info = inspectOnnx(new Uint8Array(await artifact.arrayBuffer()));
    assert.match(info.metadata.get('mass.requires') ?? '', /com\.microsoft\.Tokenizer/);

    const dep = await call(server, 'POST', '/v1/projects/shop/deployments', {
      key,
      json: { name: 'reviews', model: 'reviews-lr' },
    });
    assert.equal(dep.status, 201, JSON.stringify(dep.body));
    const predicted = await call(server, 'POST', '/v1/projects/shop/deployments/reviews/predict', {
      key,
      json: {
        rows: [
          { review: 'Great product, I LOVE it. Excellent and fast delivery!', stars: 4, channel: 'web' },
          { review: 'Terrible. Arrived broken, the worst; I want a refund', stars: 2, channel: 'app' },
          { review: null, stars: null, channel: null },
          { review: 'w1 unknown words only', stars: 3, channel: 'kiosk' },
        ],
      },
    });
    assert.equal(predicted.status, 200, JSON.stringify(predicted.body));
    const p = predicted.body.predictions;
    assert.equal(p[0].label, 'pos');
    assert.equal(p[1].label, 'neg');
    for (const row of p) {
      const total = Object.values(row.probabilities as Record<string, number>).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(total - 1) < 1e-5);
    }
  });

  test('multinomial naive Bayes uses term counts of the text column', async () => {
    const submitted = await train({
      dataset: 'reviews',
      target: 'label',
      model: 'reviews-nb',
      algorithm: 'multinomial_nb',
      features: ['review', 'channel'],
    });
    assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
    const job = await waitForJob(server, key, 'shop', submitted.body.id);
    assert.equal(job.status, 'succeeded', job.error);
    assert.ok(job.result.metrics.accuracy > 0.75, `accuracy ${job.result.metrics.accuracy}`);
    const dep = await call(server, 'POST', '/v1/projects/shop/deployments', {
      key,
      json: { name: 'reviews-nb', model: 'reviews-nb' },
    });
    assert.equal(dep.status, 201, JSON.stringify(dep.body));
    const predicted = await call(server, 'POST', '/v1/projects/shop/deployments/reviews-nb/predict', {
      key,
      json: { rows: [{ review: 'awful and slow, disappointed', channel: 'store' }] },
    });
    assert.equal(predicted.status, 200, JSON.stringify(predicted.body));
    assert.equal(predicted.body.predictions[0].label, 'neg');
  });

  test('bad call: unknown or invalid text options → 400 naming params/text/<field>', async () => {
    for (const [text, path] of [
      [{ ngram: 2 }, 'params/text/ngram'],
      [{ ngrams: 3 }, 'params/text/ngrams'],
      [{ maxFeatures: 0 }, 'params/text/maxFeatures'],
      [{ minDf: 2.5 }, 'params/text/minDf'],
      ['words', 'params/text'],
    ] as const) {
      const r = await train({ dataset: 'reviews', target: 'label', params: { text } });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.code, 'VALIDATION_FAILED');
      assert.equal(r.body.errors[0].path, path);
    }
  });
});
