// The shared expression language: parse, type-check, evaluate in JavaScript, compile to DuckDB SQL.
export {
  ExprError,
  MAX_EXPRESSION_DEPTH,
  MAX_EXPRESSION_LENGTH,
  type BinaryOp,
  type Expr,
  type ExprType,
  type LiteralValue,
  type UnaryOp,
} from './ast.js';
export { checkExpression, referencedNames } from './check.js';
export { evaluate } from './evaluate.js';
export { formatExpression } from './format.js';
export { listFunctions } from './functions.js';
export { parseExpression } from './parse.js';
export { quoteDuckDbIdent, toSql } from './sql.js';
