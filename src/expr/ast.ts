/** The value types of the expression language. `any` is a name whose type is not known statically. */
export type ExprType = 'number' | 'string' | 'boolean' | 'date' | 'null' | 'any';

export const EXPR_TYPES: readonly ExprType[] = ['number', 'string', 'boolean', 'date', 'null', 'any'];

/** Longest accepted source text, in characters. */
export const MAX_EXPRESSION_LENGTH = 10_000;
/** Deepest accepted syntax tree (every operator, call, parenthesis-free chain link counts one level). */
export const MAX_EXPRESSION_DEPTH = 100;

/** A parse, type or evaluation error; `position` is a character offset in the source text. */
export class ExprError extends Error {
  readonly position: number;
  constructor(message: string, position: number) {
    super(message);
    this.name = 'ExprError';
    this.position = position;
  }
}

export type UnaryOp = '-' | 'not';
export type ArithmeticOp = '+' | '-' | '*' | '/' | '%';
export type ComparisonOp = '=' | '!=' | '<' | '<=' | '>' | '>=';
export type LogicalOp = 'and' | 'or';
export type BinaryOp = ArithmeticOp | ComparisonOp | LogicalOp;

export type LiteralValue = number | string | boolean | null;

/** The syntax tree. `pos` is the character offset where the node starts in the source. */
export type Expr =
  | { readonly kind: 'literal'; readonly value: LiteralValue; readonly pos: number }
  | { readonly kind: 'name'; readonly name: string; readonly pos: number }
  | { readonly kind: 'unary'; readonly op: UnaryOp; readonly operand: Expr; readonly pos: number }
  | {
      readonly kind: 'binary';
      readonly op: BinaryOp;
      readonly left: Expr;
      readonly right: Expr;
      readonly pos: number;
    }
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly Expr[]; readonly pos: number }
  | {
      readonly kind: 'in';
      readonly operand: Expr;
      readonly list: readonly Expr[];
      readonly negated: boolean;
      readonly pos: number;
    }
  | {
      readonly kind: 'between';
      readonly operand: Expr;
      readonly low: Expr;
      readonly high: Expr;
      readonly negated: boolean;
      readonly pos: number;
    }
  | { readonly kind: 'isnull'; readonly operand: Expr; readonly negated: boolean; readonly pos: number }
  | {
      readonly kind: 'case';
      readonly whens: readonly { readonly when: Expr; readonly then: Expr }[];
      readonly else: Expr | null;
      readonly pos: number;
    };

export const ARITHMETIC_OPS: ReadonlySet<string> = new Set(['+', '-', '*', '/', '%']);
export const COMPARISON_OPS: ReadonlySet<string> = new Set(['=', '!=', '<', '<=', '>', '>=']);

/** The direct children of a node, in source order. */
export function children(expr: Expr): readonly Expr[] {
  switch (expr.kind) {
    case 'literal':
    case 'name':
      return [];
    case 'unary':
    case 'isnull':
      return [expr.operand];
    case 'binary':
      return [expr.left, expr.right];
    case 'call':
      return expr.args;
    case 'in':
      return [expr.operand, ...expr.list];
    case 'between':
      return [expr.operand, expr.low, expr.high];
    case 'case': {
      const out: Expr[] = [];
      for (const w of expr.whens) out.push(w.when, w.then);
      if (expr.else) out.push(expr.else);
      return out;
    }
  }
}
