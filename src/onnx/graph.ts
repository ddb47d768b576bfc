import type { AttributeInit, NodeInit, TensorInit, ValueInfoInit } from './proto.js';

/** The domain of the classical-ML operators (OneHotEncoder, LabelEncoder, ...). */
export const ML_DOMAIN = 'ai.onnx.ml';

/**
 * Collects the nodes and initializers of one graph in topological order (the order they are
 * added) and names every intermediate value, so export code reads as a chain of operations.
 * Internal names start with `mass/`; `checkNames` rejects a graph input that reuses one.
 */
export class GraphBuilder {
  readonly nodes: NodeInit[] = [];
  readonly initializers: TensorInit[] = [];
  readonly valueInfo: ValueInfoInit[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  /** Adds a constant tensor and returns its name. */
  constant(hint: string, tensor: TensorInit): string {
    const name = this.fresh(hint);
    this.initializers.push({ ...tensor, name });
    return name;
  }

  /**
   * Adds a node with one output and returns that output's name; `output` names it explicitly
   * (graph outputs), otherwise a fresh internal name is made from the operator. `type` records
   * the output's type for operators that onnx's shape inference cannot type (OneHotEncoder).
   */
  op(
    opType: string,
    inputs: readonly string[],
    options: {
      attributes?: readonly AttributeInit[];
      domain?: string;
      output?: string;
      type?: Omit<ValueInfoInit, 'name'>;
    } = {},
  ): string {
    const output = options.output ?? this.fresh(opType);
    if (options.output !== undefined) this.claim(output);
    if (options.type) this.valueInfo.push({ ...options.type, name: output });
    this.nodes.push({
      opType,
      inputs,
      outputs: [output],
      name: `${opType}_${this.nodes.length}`,
      ...(options.domain ? { domain: options.domain } : {}),
      ...(options.attributes ? { attributes: options.attributes } : {}),
    });
    return output;
  }

  /** Throws when a graph input's name collides with a value the graph defines itself. */
  checkNames(inputs: readonly ValueInfoInit[]): void {
    const seen = new Set<string>();
    for (const { name } of inputs) {
      if (name === '') throw new RangeError('an input column has an empty name');
      if (seen.has(name)) throw new RangeError(`input column ${JSON.stringify(name)} appears twice`);
      if (this.names.has(name))
        throw new RangeError(`input column ${JSON.stringify(name)} uses a reserved name`);
      seen.add(name);
    }
  }

  private fresh(hint: string): string {
    const name = `mass/${hint}_${this.counter++}`;
    this.claim(name);
    return name;
  }

  private claim(name: string): void {
    if (this.names.has(name)) throw new RangeError(`value ${JSON.stringify(name)} is defined twice`);
    this.names.add(name);
  }
}

// Attribute shorthands, so node definitions stay on one line.
export const attr = {
  float: (name: string, value: number): AttributeInit => ({ name, type: 'float', value }),
  int: (name: string, value: number): AttributeInit => ({ name, type: 'int', value }),
  string: (name: string, value: string): AttributeInit => ({ name, type: 'string', value }),
  tensor: (name: string, value: TensorInit): AttributeInit => ({ name, type: 'tensor', value }),
  floats: (name: string, value: ArrayLike<number>): AttributeInit => ({ name, type: 'floats', value }),
  ints: (name: string, value: ArrayLike<number>): AttributeInit => ({ name, type: 'ints', value }),
  strings: (name: string, value: readonly string[]): AttributeInit => ({ name, type: 'strings', value }),
};
