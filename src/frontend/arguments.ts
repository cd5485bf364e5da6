/** What a builtin function receives besides the network's values, and how it says an argument is wrong. */

/** An option as written in an equation: a number, a string, or a list of them. */
export type Literal = number | string | readonly Literal[];

/** An argument that is wrong for its function: a dimension that is not one, a reading mathjs would differ on. */
export class ArgumentError extends Error {
  constructor(
    message: string,
    readonly expected: string,
    readonly found: string,
    readonly suggestion?: string,
  ) {
    super(message);
  }
}
