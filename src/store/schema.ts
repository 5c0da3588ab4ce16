/**
 * Table shapes of Pitlane's database, as kysely sees them. One set of tables serves SQLite
 * (embedded mode) and PostgreSQL (multi-instance mode). Times are ISO 8601 strings (UTC) unless
 * the column name ends in `_ms` (milliseconds since the Unix epoch). JSON columns hold text.
 */
import type { Generated } from 'kysely';

/** Deployment status: the queue state of one durable deploy attempt. */
export type DeploymentStatus = 'queued' | 'running' | 'done' | 'failed';

/**
 * Deployment phases, in order (DESIGN.md "Lifecycles"). Each is written before the work it starts.
 */
export const DEPLOYMENT_PHASES = [
  'queued',
  'fetching_source',
  'linting',
  'building',
  'checking_image',
  'provisioning',
  'waiting_ready',
  'done',
  'failed',
] as const;
export type DeploymentPhase = (typeof DEPLOYMENT_PHASES)[number];

/** Where a deployment's source comes from. */
export type SourceKind = 'upload' | 'git' | 'image';

export interface DeploymentsTable {
  id: string;
  job_name: string;
  job_version: string;
  status: DeploymentStatus;
  phase: DeploymentPhase;
  /** The normalised manifest, JSON. */
  manifest_json: string;
  source_kind: SourceKind;
  /** Path of the stored build context archive (tar.gz) for uploads, else null. */
  context_path: string | null;
  force: number;
  /** JSON array of strings. */
  warnings_json: string;
  error: string | null;
  /** How many times a worker has started this deployment (a restart mid-way starts it again). */
  attempts: number;
  /** Instance id of the worker holding the lease, or null. */
  lease_owner: string | null;
  lease_expires_ms: number | null;
  image_id: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  /** JSON array of Dockerfile lint findings (dockerfile/ Finding). */
  lint_json: string;
  /** JSON image report (image/ ImageReport summary), or null. */
  image_report_json: string | null;
  /** JSON structure-test results, or null when the manifest declares none. */
  structure_tests_json: string | null;
}

export interface DeploymentLogsTable {
  id: Generated<number>;
  deployment_id: string;
  /** ISO 8601 time the line was received. */
  time: string;
  line: string;
}

/** Job version status. `running`: serving; `failed`: its containers are gone and could not be restored. */
export type JobStatus = 'provisioning' | 'running' | 'degraded' | 'failed';

export interface JobsTable {
  name: string;
  version: string;
  status: JobStatus;
  /** Human-readable reason for a status other than running. */
  status_reason: string | null;
  jobtype: string;
  manifest_json: string;
  /** Image id (sha256 digest of the image config). */
  image_id: string;
  /** Tag Pitlane gave the image, e.g. `pitlane-job/sum-numbers:0.0.1`. */
  image_tag: string;
  deployment_id: string;
  /** The container specification, JSON (see infra/docker ContainerSpec), to recreate lost containers. */
  container_spec_json: string;
  deployed_at: string;
  updated_at: string;
}

export interface ReplicasTable {
  container_id: string;
  job_name: string;
  job_version: string;
  replica_index: number;
  /** Host address the gateway forwards to, e.g. `127.0.0.1`. */
  host: string | null;
  /** Published host port, or null when not known (container restarting). */
  port: number | null;
  created_at: string;
}

export interface SettingsTable {
  key: string;
  value: string;
}

/** Run status (DESIGN.md "Lifecycles"): queued → building → running → a terminal status. */
export type RunStatus = 'queued' | 'building' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'timed_out';

export interface RunsTable {
  id: string;
  status: RunStatus;
  /** The validated run specification, JSON (see runs/spec.ts RunSpec). */
  spec_json: string;
  /** Identity reference of who submitted the run (`user:alice`), null for runs before migration 0004. */
  created_by: string | null;
  /** Directory holding the run's build context (Dockerfile and files), or null for image runs. */
  context_path: string | null;
  image_id: string | null;
  container_id: string | null;
  exit_code: number | null;
  error: string | null;
  /** JSON array of lint findings when a Dockerfile was built. */
  lint_json: string;
  /** JSON array of result files, set when the run ends. */
  results_json: string;
  cancel_requested: number;
  attempts: number;
  lease_owner: string | null;
  lease_expires_ms: number | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  updated_at: string;
}

export interface RunLogsTable {
  id: Generated<number>;
  run_id: string;
  /** `stdout`, `stderr`, or `system` (Pitlane's own notes, e.g. build output). */
  stream: string;
  /** ISO 8601 time of the line (the engine's timestamp for container output). */
  time: string;
  line: string;
}

/** The whole database, as typed for kysely. */
export interface DatabaseSchema {
  deployments: DeploymentsTable;
  deployment_logs: DeploymentLogsTable;
  jobs: JobsTable;
  replicas: ReplicasTable;
  settings: SettingsTable;
  runs: RunsTable;
  run_logs: RunLogsTable;
  identities: IdentitiesTable;
  api_tokens: ApiTokensTable;
  permissions: PermissionsTable;
  public_endpoints: PublicEndpointsTable;
  audit_log: AuditLogTable;
  secrets: SecretsTable;
}

/** Users, service accounts and job identities (migration 0004). */
export interface IdentitiesTable {
  id: string;
  /** `user`, `service_account` or `job`. */
  kind: string;
  /** Unique per kind: username, service account name, or `NAME@VERSION` for a job identity. */
  name: string;
  /** argon2id PHC string for users with a password; null otherwise. */
  password_hash: string | null;
  /** 1 when disabled: its tokens stop working at once. */
  disabled: number;
  /** Generation of a job identity's derived token (bumped to rotate it). */
  token_generation: number;
  created_at: string;
  created_by: string;
}

/** API tokens and browser sessions, stored only as SHA-256 hashes. */
export interface ApiTokensTable {
  /** Short id, also the token's readable prefix after `pitlane_`. */
  id: string;
  identity_id: string;
  /** Hex SHA-256 of the whole token. */
  token_hash: string;
  /** `api` (created by a user), `session` (login), `job` (a job identity's derived token), `bootstrap`. */
  kind: string;
  description: string;
  created_at: string;
  /** ISO 8601 expiry, or null for no expiry. */
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}

/** Permission grants: IDENTITY can SCOPE on [job [version [endpoint]]]; null filters mean every. */
export interface PermissionsTable {
  id: string;
  identity_id: string;
  scope: string;
  job_name: string | null;
  job_version: string | null;
  endpoint: string | null;
  created_at: string;
  created_by: string;
}

/** Endpoints a manifest declares public; open only once `approved_at` is set by an admin. */
export interface PublicEndpointsTable {
  job_name: string;
  job_version: string;
  endpoint: string;
  requested_at: string;
  approved_at: string | null;
  approved_by: string | null;
}

/** The audit log. */
export interface AuditLogTable {
  id: Generated<number>;
  time: string;
  actor: string;
  action: string;
  target: string;
  details_json: string;
  request_id: string | null;
  ip: string | null;
}

/** Secrets of a job name (all versions), encrypted at rest (migration 0005, src/secrets/). */
export interface SecretsTable {
  job_name: string;
  /** An environment variable name; the id of the BuildKit secret mount for build secrets. */
  key: string;
  /** `runtime` (container environment) or `build` (BuildKit secret mount). */
  kind: 'runtime' | 'build';
  /** AES-256-GCM ciphertext, base64. */
  ciphertext: string;
  /** The value's random 12-byte IV, base64. */
  iv: string;
  /** The 16-byte GCM authentication tag, base64. */
  auth_tag: string;
  created_at: string;
  updated_at: string;
  /** Identity reference of who set it last, e.g. `user:alice`. */
  updated_by: string;
}
