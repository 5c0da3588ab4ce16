/**
 * Database migrations, in code (kysely `Migrator` with a static provider, so bundles and tests
 * need no file globbing). Written with kysely's schema builder so SQLite and PostgreSQL share them.
 */
import type { Kysely, Migration, MigrationProvider } from 'kysely';

const migrations: Record<string, Migration> = {
  '0001_core': {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('deployments')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('job_name', 'text', (c) => c.notNull())
        .addColumn('job_version', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('phase', 'text', (c) => c.notNull())
        .addColumn('manifest_json', 'text', (c) => c.notNull())
        .addColumn('source_kind', 'text', (c) => c.notNull())
        .addColumn('context_path', 'text')
        .addColumn('force', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('warnings_json', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('error', 'text')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('lease_owner', 'text')
        .addColumn('lease_expires_ms', 'bigint')
        .addColumn('image_id', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('finished_at', 'text')
        .execute();
      await db.schema.createIndex('deployments_status').on('deployments').columns(['status', 'created_at']).execute();
      await db.schema.createIndex('deployments_job').on('deployments').columns(['job_name', 'job_version']).execute();

      await db.schema
        .createTable('deployment_logs')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('deployment_id', 'text', (c) => c.notNull())
        .addColumn('time', 'text', (c) => c.notNull())
        .addColumn('line', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('deployment_logs_deployment').on('deployment_logs').columns(['deployment_id', 'id']).execute();

      await db.schema
        .createTable('jobs')
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('status_reason', 'text')
        .addColumn('jobtype', 'text', (c) => c.notNull())
        .addColumn('manifest_json', 'text', (c) => c.notNull())
        .addColumn('image_id', 'text', (c) => c.notNull())
        .addColumn('image_tag', 'text', (c) => c.notNull())
        .addColumn('deployment_id', 'text', (c) => c.notNull())
        .addColumn('container_spec_json', 'text', (c) => c.notNull())
        .addColumn('deployed_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('jobs_pk', ['name', 'version'])
        .execute();

      await db.schema
        .createTable('replicas')
        .addColumn('container_id', 'text', (c) => c.primaryKey())
        .addColumn('job_name', 'text', (c) => c.notNull())
        .addColumn('job_version', 'text', (c) => c.notNull())
        .addColumn('replica_index', 'integer', (c) => c.notNull())
        .addColumn('host', 'text')
        .addColumn('port', 'integer')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('replicas_job').on('replicas').columns(['job_name', 'job_version']).execute();

      await db.schema
        .createTable('settings')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0002_runs': {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('runs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('spec_json', 'text', (c) => c.notNull())
        .addColumn('context_path', 'text')
        .addColumn('image_id', 'text')
        .addColumn('container_id', 'text')
        .addColumn('exit_code', 'integer')
        .addColumn('error', 'text')
        .addColumn('lint_json', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('results_json', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('cancel_requested', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('lease_owner', 'text')
        .addColumn('lease_expires_ms', 'bigint')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text')
        .addColumn('finished_at', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('runs_status').on('runs').columns(['status', 'created_at']).execute();
      await db.schema
        .createTable('run_logs')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('stream', 'text', (c) => c.notNull())
        .addColumn('time', 'text', (c) => c.notNull())
        .addColumn('line', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('run_logs_run').on('run_logs').columns(['run_id', 'id']).execute();
    },
  },
  '0003_deployment_checks': {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('deployments').addColumn('lint_json', 'text', (c) => c.notNull().defaultTo('[]')).execute();
      await db.schema.alterTable('deployments').addColumn('image_report_json', 'text').execute();
      await db.schema.alterTable('deployments').addColumn('structure_tests_json', 'text').execute();
    },
  },
  '0004_identities': {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('identities')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('password_hash', 'text')
        .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('token_generation', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addUniqueConstraint('identities_kind_name', ['kind', 'name'])
        .execute();
      await db.schema
        .createTable('api_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('identity_id', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text')
        .addColumn('revoked_at', 'text')
        .addColumn('last_used_at', 'text')
        .execute();
      await db.schema.createIndex('api_tokens_identity').on('api_tokens').column('identity_id').execute();
      await db.schema
        .createTable('permissions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('identity_id', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('job_name', 'text')
        .addColumn('job_version', 'text')
        .addColumn('endpoint', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('permissions_identity').on('permissions').column('identity_id').execute();
      await db.schema
        .createTable('public_endpoints')
        .addColumn('job_name', 'text', (c) => c.notNull())
        .addColumn('job_version', 'text', (c) => c.notNull())
        .addColumn('endpoint', 'text', (c) => c.notNull())
        .addColumn('requested_at', 'text', (c) => c.notNull())
        .addColumn('approved_at', 'text')
        .addColumn('approved_by', 'text')
        .addPrimaryKeyConstraint('public_endpoints_pk', ['job_name', 'job_version', 'endpoint'])
        .execute();
      await db.schema
        .createTable('audit_log')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('time', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('details_json', 'text', (c) => c.notNull())
        .addColumn('request_id', 'text')
        .addColumn('ip', 'text')
        .execute();
      await db.schema.createIndex('audit_log_target').on('audit_log').column('target').execute();
      await db.schema.alterTable('runs').addColumn('created_by', 'text').execute();
    },
  },
  '0005_secrets': {
    async up(db: Kysely<any>): Promise<void> {
      // Secret values encrypted with AES-256-GCM (src/secrets/); ciphertext, iv and auth_tag are base64.
      await db.schema
        .createTable('secrets')
        .addColumn('job_name', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('ciphertext', 'text', (c) => c.notNull())
        .addColumn('iv', 'text', (c) => c.notNull())
        .addColumn('auth_tag', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('updated_by', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('secrets_pk', ['job_name', 'key', 'kind'])
        .execute();
    },
  },
};

/** The static migration provider: every migration Pitlane has, keyed by sortable name. */
export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
