/**
 * Strict types for JSON bodies. The API's ajv coerces types (`coerceTypes: 'array'`, which query
 * strings need: `?limit=10`), and would also turn a body's `1` into `"1"` or `"true"` into `true`.
 * This check runs before that validation and refuses a JSON body whose values do not already have
 * the types the route's body schema declares, naming each field.
 */
import type { FastifyRequest } from 'fastify';
import { PitlaneError, type ErrorDetail } from '../errors.js';

interface SchemaNode {
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  additionalProperties?: boolean | SchemaNode;
}

function matchesType(value: unknown, type: string): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'null':
      return value === null;
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    default:
      return true;
  }
}

/**
 * The type mismatches of `value` against a JSON schema (pure): only the `type` keyword is
 * checked, through `properties`, `items` and schema-valued `additionalProperties`; every other
 * rule is left to the validator.
 * @param path dotted path of `value`, e.g. `body` → details such as `body.force`.
 * @returns one detail per value of the wrong type; empty when every declared type matches.
 */
export function strictTypeProblems(schema: unknown, value: unknown, path = 'body'): ErrorDetail[] {
  if (!schema || typeof schema !== 'object') return [];
  const node = schema as SchemaNode;
  if (node.type !== undefined) {
    const types = Array.isArray(node.type) ? node.type : [node.type];
    if (!types.some((type) => matchesType(value, type))) {
      const got = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
      return [{ path, message: `must be ${types.join(' or ')}, not ${got}` }];
    }
  }
  const problems: ErrorDetail[] = [];
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      const childSchema = node.properties && Object.hasOwn(node.properties, key) ? node.properties[key] : typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined;
      if (childSchema) problems.push(...strictTypeProblems(childSchema, child, `${path}.${key}`));
    }
  } else if (Array.isArray(value) && node.items) {
    value.forEach((item, index) => problems.push(...strictTypeProblems(node.items, item, `${path}.${index}`)));
  }
  return problems;
}

/**
 * A `preValidation` hook: refuses a JSON body whose values have other types than the route's body
 * schema declares. Multipart requests (read in the handler) and routes without a body schema pass.
 * @throws PitlaneError 400 REQUEST_INVALID naming each field (`body.force`).
 */
export async function strictBodyTypes(request: FastifyRequest): Promise<void> {
  const schema = request.routeOptions.schema?.body;
  if (!schema || request.body === undefined || request.isMultipart()) return;
  const problems = strictTypeProblems(schema, request.body);
  if (problems.length > 0) {
    throw new PitlaneError(400, 'REQUEST_INVALID', `invalid request: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, problems);
  }
}
