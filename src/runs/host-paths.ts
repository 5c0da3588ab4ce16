/**
 * Host-path volumes of runs checked on the real file system (the lexical check of `spec.ts` is not
 * enough: a symlink under an allowed directory can lead anywhere, e.g. to the Docker socket).
 */
import { realpath, stat } from 'node:fs/promises';
import { PitlaneError } from '../errors.js';
import { exposesDockerSocket } from '../infra/index.js';
import { hostPathAllowed, type RunVolume } from './spec.js';

/**
 * Resolves every bind-mount source to its real path and checks it again: it must exist, lie
 * under one of the allowed directories (themselves resolved), not be or hold the Docker socket,
 * and be a directory or a regular file. Named volumes pass unchanged.
 *
 * @param volumes the validated volumes of a run spec.
 * @param allowed the admin's allowed host directories (`PITLANE_RUN_HOST_PATHS`).
 * @returns the volumes with each bind source replaced by its real path (what Docker is given, so a
 *   symlink swapped later cannot redirect the mount).
 * @throws PitlaneError 403 VOLUME_FORBIDDEN naming `volumes.N` when a source leads outside the
 *   allowed directories or to the Docker socket; 400 RUN_INVALID when a source does not exist or
 *   is neither a directory nor a regular file.
 */
export async function resolveHostVolumes(volumes: RunVolume[], allowed: string[]): Promise<RunVolume[]> {
  const realAllowed: string[] = [];
  for (const root of allowed) realAllowed.push(await realpath(root).catch(() => root));
  const resolved: RunVolume[] = [];
  for (const [index, volume] of volumes.entries()) {
    if (volume.type !== 'bind') {
      resolved.push(volume);
      continue;
    }
    const path = `volumes.${index}`;
    let real: string;
    try {
      real = await realpath(volume.source);
    } catch {
      throw new PitlaneError(400, 'RUN_INVALID', `host path ${volume.source} does not exist`, [{ path, message: `host path ${volume.source} does not exist` }]);
    }
    if (!hostPathAllowed(real, realAllowed) || exposesDockerSocket(real)) {
      throw new PitlaneError(403, 'VOLUME_FORBIDDEN', `host path ${volume.source} leads to ${real}, outside the directories an admin allows (PITLANE_RUN_HOST_PATHS)`, [
        { path, message: `host path ${volume.source} is not allowed` },
      ]);
    }
    const info = await stat(real);
    if (!info.isDirectory() && !info.isFile()) {
      throw new PitlaneError(400, 'RUN_INVALID', `host path ${volume.source} is neither a directory nor a regular file`, [
        { path, message: 'must be a directory or a regular file' },
      ]);
    }
    resolved.push({ ...volume, source: real });
  }
  return resolved;
}
