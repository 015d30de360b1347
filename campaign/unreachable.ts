// The end of an exhaustive switch: the compiler rejects a case left out (its value is not
// `never`), and a value that reaches it at run time — data written by newer code, say — fails
// loudly instead of being skipped.
export function unreachable(value: never, what: string): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}
