/**
 * Docker helpers for the image-report integration tests and `bench/inspect`: building images
 * with dockerode from in-memory contexts, and a tiny `FROM scratch` busybox base image made from
 * the host's static `/bin/busybox` (Debian's busybox-static), so nothing has to be pulled.
 */
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import Docker from 'dockerode';
import tar from 'tar-stream';

/** The base image all image-report tests build on. */
export const BUSYBOX_BASE = 'pitlane-test/busybox-base:image-report';

/** A dockerode client on the local engine. */
export function dockerClient(): Docker {
  return new Docker();
}

/** Packs `files` (path -> content, optional mode) into a tar build context. */
export async function contextTar(files: Record<string, string | Buffer | { content: Buffer; mode: number }>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c: unknown) => {
      chunks.push(c as Buffer);
    });
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  for (const [name, value] of Object.entries(files)) {
    const { content, mode } = typeof value === 'string' || Buffer.isBuffer(value) ? { content: Buffer.from(value), mode: 0o644 } : value;
    await new Promise<void>((resolve, reject) => pack.entry({ name, size: content.length, mode, mtime: new Date(0) }, content, (err) => (err ? reject(err) : resolve())));
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** Builds `tag` from a Dockerfile and extra context files with the engine's classic builder; rejects with the build log on failure. */
export async function buildImage(docker: Docker, tag: string, dockerfile: string, files: Record<string, string | Buffer | { content: Buffer; mode: number }> = {}): Promise<void> {
  const context = await contextTar({ Dockerfile: dockerfile, ...files });
  const stream = await docker.buildImage(Readable.from([context]), { t: tag, rm: true, forcerm: true });
  const events = await new Promise<Array<{ stream?: string; error?: string; errorDetail?: { message?: string } }>>((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, res: Array<{ stream?: string; error?: string }>) => (err ? reject(err) : resolve(res)));
  });
  const failure = events.find((e) => e.error);
  if (failure) {
    const log = events.map((e) => e.stream ?? e.error ?? '').join('');
    throw new Error(`docker build of ${tag} failed: ${failure.error}\n${log}`);
  }
}

/** True when `ref` exists in the engine. */
export async function imageExists(docker: Docker, ref: string): Promise<boolean> {
  try {
    await docker.getImage(ref).inspect();
    return true;
  } catch {
    return false;
  }
}

/**
 * Ensures {@link BUSYBOX_BASE}: `FROM scratch` + the host's static busybox with its applets
 * installed as symlinks in /bin, plus /tmp, /root, /etc.
 */
export async function ensureBusyboxBase(docker: Docker): Promise<string> {
  if (await imageExists(docker, BUSYBOX_BASE)) return BUSYBOX_BASE;
  const busybox = readFileSync('/bin/busybox');
  await buildImage(
    docker,
    BUSYBOX_BASE,
    [
      'FROM scratch',
      'COPY busybox /bin/busybox',
      'RUN ["/bin/busybox", "sh", "-c", "/bin/busybox --install -s /bin && mkdir -p /tmp /root /etc /opt && chmod 1777 /tmp"]',
      'CMD ["/bin/sh"]',
      '',
    ].join('\n'),
    { busybox: { content: busybox, mode: 0o755 } },
  );
  return BUSYBOX_BASE;
}

/** Removes images (ignoring ones already gone). */
export async function removeImages(docker: Docker, refs: string[]): Promise<void> {
  for (const ref of refs) {
    await docker
      .getImage(ref)
      .remove({ force: true })
      .catch(() => undefined);
  }
}
