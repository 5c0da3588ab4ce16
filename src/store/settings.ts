/** Key/value settings that Pitlane keeps in its database (e.g. the admin token's hash). */
import type { PitlaneDatabase } from './database.js';

export class SettingsRepository {
  constructor(private readonly db: PitlaneDatabase) {}

  /** The value of `key`, or undefined. */
  async get(key: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
    return row?.value;
  }

  /** Sets `key` to `value` (insert or replace). */
  async set(key: string, value: string): Promise<void> {
    await this.db
      .insertInto('settings')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
      .execute();
  }
}
