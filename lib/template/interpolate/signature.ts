import type { InterpolateContext } from './context';

/*
 * Go checks template function arguments against the function's parameter
 * types, and the error texts name those types, so every function declares
 * its parameters in Go terms:
 *
 *   string  a Go string parameter
 *   int     a Go int parameter
 *   any     interface{}: anything; a missing value arrives as nil (null)
 *   value   reflect.Value: anything, passed through untouched (built-ins)
 */
export type ParamType = 'string' | 'int' | 'any' | 'value';

export interface TemplateFunction {
  readonly params: readonly ParamType[];
  /** the element type of a trailing `...` parameter */
  readonly variadic?: ParamType;
  /** `and`/`or` evaluate their arguments lazily and return the deciding one */
  readonly shortCircuit?: 'and' | 'or';
  /** throws to fail with `error calling NAME: <message>` */
  readonly call: (args: unknown[], ctx: InterpolateContext) => unknown;
}

/** Go's names for the parameter types, used in argument errors. */
export function goTypeOf(param: ParamType): string {
  switch (param) {
    case 'string': return 'string';
    case 'int': return 'int';
    case 'any': return 'interface {}';
    case 'value': return 'reflect.Value';
  }
}
