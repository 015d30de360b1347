// The part of jexl's API the campaign core uses (the package ships no types).
declare module 'jexl' {
  export interface Expression {
    evalSync(context?: Record<string, unknown>): unknown;
  }
  export class Jexl {
    compile(expression: string): Expression;
    addFunctions(map: Record<string, (...args: never[]) => unknown>): void;
    addTransforms(map: Record<string, (value: unknown, ...args: never[]) => unknown>): void;
  }
}
