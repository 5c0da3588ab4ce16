/**
 * Opening the database. Embedded mode uses SQLite through `libsql` (an N-API addon with a
 * better-sqlite3-compatible synchronous API, so the same binary works on Node 20 and Node 24
 * without a source build) behind kysely's SqliteDialect.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'libsql';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { migrationProvider } from './migrations.js';
import type { DatabaseSchema } from './schema.js';

export type PitlaneDatabase = Kysely<DatabaseSchema>;

/**
 * Opens (creating if needed) the SQLite database file at `path`, applies WAL mode and a busy
 * timeout, and runs every pending migration.
 * @throws Error when the file cannot be opened or a migration fails.
 */
export async function openDatabase(path: string): Promise<PitlaneDatabase> {
  mkdirSync(dirname(path), { recursive: true });
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('synchronous = FULL');
  const db = new Kysely<DatabaseSchema>({ dialect: new SqliteDialect({ database: sqlite as never }) });
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error } = await migrator.migrateToLatest();
  if (error) {
    await db.destroy();
    throw error instanceof Error ? error : new Error(String(error));
  }
  return db;
}
