/**
 * The child process that loads an uploaded ONNX model in ONNX Runtime once, before Mass accepts
 * it (see import.ts). It runs apart from the server, with an empty environment (no database URL,
 * no keys) in an empty working folder, so a model that crashes the runtime or tries to reach
 * files takes nothing with it.
 *
 * Protocol: the model bytes on stdin; one JSON line on stdout, then exit 0:
 * `{"ok":true,"inputs":[...],"outputs":[...]}` (ONNX Runtime's own metadata) or
 * `{"ok":false,"message":"..."}` (ONNX Runtime's reason).
 */
import ort from 'onnxruntime-node';

export interface ProbeTensor {
  readonly name: string;
  readonly isTensor: boolean;
  /** ONNX Runtime's element type name (`float32`, `int64`, `string`, ...); '' when not a tensor. */
  readonly type: string;
  /** A number per fixed dimension, the symbol for a named one, -1 (or '') for an unknown one. */
  readonly shape: readonly (number | string)[];
}

export type ProbeReply =
  | { readonly ok: true; readonly inputs: ProbeTensor[]; readonly outputs: ProbeTensor[] }
  | { readonly ok: false; readonly message: string };

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function describe(list: readonly ort.InferenceSession.ValueMetadata[]): ProbeTensor[] {
  return list.map((v) =>
    v.isTensor
      ? { name: v.name, isTensor: true, type: String(v.type), shape: [...v.shape] }
      : { name: v.name, isTensor: false, type: '', shape: [] },
  );
}

async function main(): Promise<void> {
  const bytes = await readStdin();
  let reply: ProbeReply;
  try {
    // The same options as serving (src/serving/runtime.ts): what loads here loads there.
    const session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    reply = { ok: true, inputs: describe(session.inputMetadata), outputs: describe(session.outputMetadata) };
    await session.release();
  } catch (error) {
    reply = { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  process.stdout.write(`${JSON.stringify(reply)}\n`, () => process.exit(0));
}

void main();
