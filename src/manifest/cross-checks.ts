/**
 * Rules that involve several manifest fields, checked on the raw input next to the zod schema
 * so that every problem is reported in one go.
 */
import type { ErrorDetail } from '../errors.js';
import { parseCpuCores, parseQuantityBytes } from './quantity.js';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function bytesOf(value: unknown): number | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  try {
    return parseQuantityBytes(String(value));
  } catch {
    return undefined;
  }
}

function coresOf(value: unknown): number | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  try {
    return parseCpuCores(value);
  } catch {
    return undefined;
  }
}

/**
 * Cross-field problems of a manifest object.
 *
 * - exactly one of `jobtype` and the deprecated `lang` (path `jobtype` when both are missing, `lang` when both are given);
 * - not both `dockerfile_path` and the deprecated `docker.dockerfile_path`;
 * - `resources.memory_min <= memory_max` and `resources.cpu_min <= cpu_max` when both parse.
 *
 * @param input the top-level manifest object (already known to be a plain object).
 * @returns the problems found, possibly none. Never throws.
 */
export function crossFieldProblems(input: Record<string, unknown>): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  if (input.jobtype === undefined && input.lang === undefined) {
    problems.push({ path: 'jobtype', message: 'is required: give the job type, e.g. `jobtype: docker-proxy`' });
  } else if (input.jobtype !== undefined && input.lang !== undefined) {
    problems.push({ path: 'lang', message: 'give either `jobtype` or the deprecated `lang`, not both' });
  }
  if (isObject(input.docker) && input.docker.dockerfile_path !== undefined && input.dockerfile_path !== undefined) {
    problems.push({
      path: 'docker.dockerfile_path',
      message: 'give either `dockerfile_path` or the deprecated `docker.dockerfile_path`, not both',
    });
  }
  if (isObject(input.resources)) {
    const r = input.resources;
    const [memMin, memMax] = [bytesOf(r.memory_min), bytesOf(r.memory_max)];
    if (memMin !== undefined && memMax !== undefined && memMin > memMax) {
      problems.push({ path: 'resources.memory_min', message: 'must not be greater than memory_max' });
    }
    const [cpuMin, cpuMax] = [coresOf(r.cpu_min), coresOf(r.cpu_max)];
    if (cpuMin !== undefined && cpuMax !== undefined && cpuMin > cpuMax) {
      problems.push({ path: 'resources.cpu_min', message: 'must not be greater than cpu_max' });
    }
  }
  return problems;
}
