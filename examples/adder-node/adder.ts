/**
 * A node job: adds up a list of numbers (Racetrack's adder sample, in TypeScript).
 * Pitlane compiles it in the build stage and serves `perform` through its node:http wrapper.
 */

/** perform's input: the JSON object POSTed to /api/v1/perform. */
export interface AdderInput {
  numbers: number[];
}

/** Returns the sum of the numbers. A TypeError (bad input) becomes a 400 answer. */
export function perform({ numbers }: AdderInput): number {
  if (!Array.isArray(numbers) || !numbers.every((n) => typeof n === 'number' && Number.isFinite(n))) {
    throw new TypeError('numbers must be an array of finite numbers');
  }
  return numbers.reduce((sum, n) => sum + n, 0);
}

/** The example input shown in /docs. */
export const docsInputExample: AdderInput = { numbers: [40, 2] };

/** Served by GET /api/v1/parameters. */
export const parameters = [{ name: 'numbers', type: 'array', description: 'the numbers to add up', required: true }];
