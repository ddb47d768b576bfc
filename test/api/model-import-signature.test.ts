// How an imported model's signature is derived from ONNX Runtime's view of the graph, the file's
// metadata and the caller's options — the rules docs/models.md states, one by one.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../../src/errors/index.js';
import { inspectOnnx } from '../../src/onnx/inspect.js';
import { encodeModel } from '../../src/onnx/proto.js';
import {
  deriveSignature,
  mergeOptions,
  optionsFromJson,
  optionsFromQuery,
  type ImportOptions,
} from '../../src/registry/import.js';
import type { ProbeTensor } from '../../src/registry/onnx-probe.js';

const info = (metadata: [string, string][] = []) =>
  inspectOnnx(
    encodeModel({
      irVersion: 8,
      opsetImports: [{ domain: '', version: 17 }],
      producerName: 't',
      producerVersion: '1',
      modelVersion: 1,
      graph: {
        name: 'g',
        nodes: [{ opType: 'Identity', inputs: ['x'], outputs: ['y'] }],
        initializers: [],
        inputs: [{ name: 'x', type: 'float', shape: ['N', 1] }],
        outputs: [{ name: 'y', type: 'float', shape: ['N', 1] }],
      },
      metadataProps: metadata,
    }),
  );

const t = (name: string, type: string, shape: (number | string)[]): ProbeTensor => ({
  name,
  isTensor: true,
  type,
  shape,
});

function refuses(fn: () => unknown, code: string, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof AppError, String(e));
    assert.equal(e.code, code);
    assert.match(`${e.message} ${e.errors.map((i) => i.path).join(' ')}`, pattern);
    return true;
  });
}

describe('deriving the signature of an imported model', () => {
  const x = [t('x', 'float32', ['batch', 4])];

  test('symbolic and unknown dimensions become -1; datatypes take the Open Inference Protocol names', () => {
    const d = deriveSignature(
      info(),
      {
        inputs: [t('ids', 'int64', ['batch', 'seq']), t('s', 'string', [-1])],
        outputs: [t('o', 'bool', [3, ''])],
      },
      {},
    );
    assert.deepEqual(d.signature, {
      task: 'custom',
      inputs: [],
      tensors: {
        inputs: [
          { name: 'ids', datatype: 'INT64', shape: [-1, -1] },
          { name: 's', datatype: 'BYTES', shape: [-1] },
        ],
        outputs: [{ name: 'o', datatype: 'BOOL', shape: [3, -1] }],
      },
    });
  });

  test('regression: the value output is found by name, or is the only float output, or is named', () => {
    const byName = deriveSignature(
      info(),
      { inputs: x, outputs: [t('n', 'int64', ['batch']), t('variable', 'float32', ['batch', 1])] },
      { task: 'regression' },
    );
    assert.deepEqual(byName.signature.outputRoles, { value: 'variable' });
    const only = deriveSignature(
      info(),
      { inputs: x, outputs: [t('price', 'float64', ['batch'])] },
      {
        task: 'regression',
      },
    );
    assert.deepEqual(only.signature.outputRoles, { value: 'price' });
    const named = deriveSignature(
      info(),
      { inputs: x, outputs: [t('a', 'float32', ['batch']), t('b', 'float32', ['batch'])] },
      { task: 'regression', output: 'b' },
    );
    assert.deepEqual(named.signature.outputRoles, { value: 'b' });
    refuses(
      () =>
        deriveSignature(
          info(),
          { inputs: x, outputs: [t('a', 'float32', ['batch']), t('b', 'float32', ['batch'])] },
          {
            task: 'regression',
          },
        ),
      'VALIDATION_FAILED',
      /several outputs .*a, b.*output=NAME/,
    );
  });

  test('classification: default labels 0..C-1; a dynamic C needs labels; labels must match C', () => {
    const probs = [t('logits', 'float32', ['batch', 3])];
    const d = deriveSignature(info(), { inputs: x, outputs: probs }, { task: 'classification' });
    assert.deepEqual(d.signature.labels, [0, 1, 2]);
    assert.deepEqual(d.signature.outputRoles, { probabilities: 'logits' });
    refuses(
      () =>
        deriveSignature(
          info(),
          { inputs: x, outputs: [t('p', 'float32', ['batch', 'classes'])] },
          {
            task: 'classification',
          },
        ),
      'VALIDATION_FAILED',
      /dynamic number of columns.*labels/,
    );
    refuses(
      () => deriveSignature(info(), { inputs: x, outputs: probs }, { labels: ['a', 'b'] }),
      'VALIDATION_FAILED',
      /3 columns.*2 labels/,
    );
    refuses(
      () =>
        deriveSignature(info(), { inputs: x, outputs: [t('ids', 'int64', ['batch'])] }, { labels: ['a'] }),
      'VALIDATION_FAILED',
      /no output of the model can hold the class probabilities/,
    );
  });

  test('bad call: types Mass cannot serve are refused at import', () => {
    refuses(
      () =>
        deriveSignature(info(), { inputs: [t('u', 'uint16', [1])], outputs: [t('y', 'float32', [1])] }, {}),
      'MODEL_UNSUPPORTED',
      /input "u" is a uint16 tensor/,
    );
    refuses(
      () =>
        deriveSignature(
          info(),
          { inputs: x, outputs: [{ name: 'seq', isTensor: false, type: '', shape: [] }] },
          {},
        ),
      'MODEL_UNSUPPORTED',
      /output "seq" is not a tensor.*tensors/,
    );
  });

  test('a mass.signature that agrees with the graph is restored; one that does not is ignored with a warning', () => {
    const sig = { task: 'regression', target: 'price', inputs: [{ name: 'x', type: 'numeric' }] };
    const metrics = { rmse: 1.5 };
    const inputs = [t('x', 'float32', ['N', 1])];
    const outputs = [t('value', 'float32', ['N'])];
    const restored = deriveSignature(
      info([
        ['mass.signature', JSON.stringify(sig)],
        ['mass.metrics', JSON.stringify(metrics)],
      ]),
      { inputs, outputs },
      {},
    );
    assert.equal(restored.restored, true);
    assert.deepEqual(restored.metrics, metrics);
    assert.equal(restored.signature.task, 'regression');
    assert.equal(restored.signature.target, 'price');
    assert.deepEqual(restored.signature.inputs, sig.inputs);

    const wrong = { ...sig, inputs: [{ name: 'x', type: 'categorical' }] };
    const ignored = deriveSignature(
      info([['mass.signature', JSON.stringify(wrong)]]),
      { inputs, outputs },
      {},
    );
    assert.equal(ignored.restored, false);
    assert.equal(ignored.signature.task, 'custom');
    assert.deepEqual(ignored.signature.inputs, []);
    assert.match(ignored.warnings.join(), /not a BYTES \[N,1\] tensor/);
    const garbage = deriveSignature(info([['mass.signature', '{nope']]), { inputs, outputs }, {});
    assert.match(garbage.warnings.join(), /not JSON/);

    // Another task turns the restoration off; labels do not fit a restored regression.
    const custom = deriveSignature(
      info([['mass.signature', JSON.stringify(sig)]]),
      { inputs, outputs },
      {
        task: 'custom',
      },
    );
    assert.deepEqual([custom.restored, custom.signature.inputs], [false, []]);
    refuses(
      () =>
        deriveSignature(
          info([['mass.signature', JSON.stringify(sig)]]),
          { inputs, outputs },
          { labels: ['a'] },
        ),
      'VALIDATION_FAILED',
      /labels.*regression/,
    );
  });

  test('options: query labels are comma separated; the JSON header allows numbers and commas; the query wins', () => {
    const q = optionsFromQuery({ labels: 'a, b ,c', task: 'classification' });
    assert.deepEqual(q.labels, ['a', 'b', 'c']);
    const h = optionsFromJson('{"labels": [0, "x,y"], "description": "d"}', 'header');
    assert.deepEqual(h.labels, [0, 'x,y']);
    const merged: ImportOptions = mergeOptions(h, q);
    assert.deepEqual(merged.labels, ['a', 'b', 'c']);
    assert.equal(merged.description, 'd');
    refuses(() => optionsFromJson('[1]', 'header'), 'VALIDATION_FAILED', /JSON object/);
    refuses(() => optionsFromJson('{"labels": "a,b"}', 'header'), 'VALIDATION_FAILED', /labels.*array/);
    refuses(() => optionsFromJson('{"task": 3}', 'header'), 'VALIDATION_FAILED', /task.*string/);
  });
});
