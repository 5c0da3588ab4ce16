/**
 * The OpenAPI 3.0 description served at GET /docs (JSON). `servers` names the prefix the request
 * came in under (`/pub/job/{name}/{version}` through the gateway, `/` when called directly), so
 * "try it out" in any OpenAPI tool calls the job the same way.
 */

const JSON_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'array', 'object', 'null']);

const errorResponse = (description) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

/** A JSON schema for perform's body from the `parameters` export when it is a list of `{name, type?, schema?, description?, required?}`. */
function inputSchema(parameters) {
  if (!Array.isArray(parameters) || parameters.length === 0) return { type: 'object' };
  const properties = {};
  const required = [];
  for (const p of parameters) {
    if (!p || typeof p !== 'object' || typeof p.name !== 'string') return { type: 'object' };
    let schema = {};
    if (p.schema && typeof p.schema === 'object') schema = { ...p.schema };
    else if (typeof p.type === 'string' && JSON_TYPES.has(p.type)) schema = { type: p.type };
    else if (typeof p.type === 'string') schema = { description: `type: ${p.type}` };
    if (typeof p.description === 'string') schema.description = p.description;
    if (p.default_value !== undefined) schema.default = p.default_value;
    else if (p.default !== undefined) schema.default = p.default;
    properties[p.name] = schema;
    if (p.required === true) required.push(p.name);
  }
  return required.length > 0 ? { type: 'object', properties, required } : { type: 'object', properties };
}

/**
 * @param {{ jobName: string, jobVersion: string, base: string, job: object | null }} options
 *   `job` is the resolved module (see job.mjs) or null while it loads or when it failed to load.
 */
export function openApiDocument({ jobName, jobVersion, base, job }) {
  const example = (path) => job?.docsInputExamples?.[path] ?? (path === '/perform' ? job?.docsInputExample : undefined) ?? {};
  const call = (path, summary, schema) => ({
    post: {
      summary,
      operationId: path === '/perform' ? 'perform' : `aux_${path.slice(1).replace(/[^A-Za-z0-9]+/g, '_')}`,
      tags: ['job'],
      requestBody: {
        required: true,
        content: { 'application/json': { schema, example: example(path) } },
      },
      responses: {
        200: { description: 'The result, as JSON.', content: { 'application/json': { schema: {} } } },
        400: errorResponse('The input was rejected: the body is not a JSON object, or the job threw a TypeError or RangeError.'),
        500: errorResponse('The job threw another error.'),
        503: errorResponse('The job is still initialising.'),
      },
    },
  });
  const probe = (summary, extra = {}) => ({
    get: { summary, tags: ['health'], security: [], responses: { 200: { description: 'OK', content: { 'application/json': { schema: { type: 'object' } } } }, 500: { description: 'Not OK' }, ...extra } },
  });

  const paths = {
    '/api/v1/perform': call('/perform', `Call ${jobName}'s perform function`, inputSchema(job?.parameters)),
  };
  for (const path of job?.auxiliaryEndpoints?.keys() ?? []) {
    paths[`/api/v1${path}`] = call(path, `Auxiliary endpoint ${path}`, { type: 'object' });
  }
  paths['/api/v1/parameters'] = {
    get: {
      summary: "Description of perform's input",
      tags: ['job'],
      responses: { 200: { description: 'The job\'s `parameters` export, or [].', content: { 'application/json': { schema: {} } } } },
    },
  };
  paths['/live'] = probe('Liveness: the process runs and the job module loaded (500 with `error` when it failed to load)');
  paths['/ready'] = probe('Readiness: the job module is loaded and its init() finished');
  paths['/health'] = probe('Health summary');
  paths['/metrics'] = {
    get: { summary: 'Prometheus metrics', tags: ['health'], security: [], responses: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } } } },
  };

  return {
    openapi: '3.0.3',
    info: {
      title: jobName,
      version: jobVersion,
      description: `Pitlane node job ${jobName} ${jobVersion}. POST a JSON object to /api/v1/perform.`,
    },
    servers: [{ url: base === '' ? '/' : base }],
    paths,
    components: {
      schemas: {
        Error: {
          type: 'object',
          properties: { error: { type: 'string' }, type: { type: 'string' } },
          required: ['error', 'type'],
        },
      },
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer' },
        racetrackAuth: { type: 'apiKey', in: 'header', name: 'X-Racetrack-Auth' },
      },
    },
    security: [{ bearerAuth: [] }, { racetrackAuth: [] }],
  };
}
