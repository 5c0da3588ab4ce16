/**
 * The `checking_image` phase: the image report (dive's figures, `src/image/`), the manifest's
 * `image_checks` gates (`.dive-ci` semantics) and `structure_tests` (container-structure-test
 * schema 2.0.0), run against the image a deployment built.
 */
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { PitlaneError } from '../errors.js';
import { hardenedHostConfig, type ContainerLimits } from '../infra/index.js';
import {
  analyzeImageArchive,
  createDockerStructureTestRunner,
  evaluateImageChecks,
  hostAccessOptions,
  normalizeImageCheckRules,
  parseStructureTests,
  runStructureTests,
  type ImageChecksEvaluation,
  type ImageReport,
  type StructureTestReport,
} from '../image/index.js';
import type { JobManifest } from '../manifest/types.js';

/** What the pipeline needs to check an image; implemented against the Docker engine by {@link DockerImageChecker}. */
export interface ImageChecker {
  /** The image report of `imageId` (layer file lists left out). */
  report(imageId: string): Promise<ImageReport>;
  /** Runs structure tests (already validated config) against `imageId`. */
  structureTests(imageId: string, config: ReturnType<typeof parseStructureTests>): Promise<StructureTestReport>;
}

/** Image checks through the local Docker engine: `docker save` streamed into the analyser. */
export class DockerImageChecker implements ImageChecker {
  /** Reports of recently analysed image ids (an image id names immutable content), newest last. */
  private readonly cache = new Map<string, ImageReport>();

  /**
   * @param limits limits of each structure-test container (default 1 GiB, 1 core, 512 processes);
   *   they also get the rest of the hardened baseline and no access to the host.
   */
  constructor(
    private readonly docker: Docker,
    private readonly limits: ContainerLimits = { memoryBytes: 1024 * 1024 * 1024, cpuCores: 1, pidsLimit: 512 },
  ) {}

  async report(imageId: string): Promise<ImageReport> {
    const cacheable = imageId.startsWith('sha256:');
    const cached = cacheable ? this.cache.get(imageId) : undefined;
    if (cached) return structuredClone(cached);
    const stream = (await this.docker.getImage(imageId).get()) as unknown as Readable;
    const report = await analyzeImageArchive(stream, { topInefficientFiles: 20 });
    if (cacheable) {
      this.cache.set(imageId, structuredClone(report));
      if (this.cache.size > 32) this.cache.delete(this.cache.keys().next().value as string);
    }
    return report;
  }

  async structureTests(imageId: string, config: ReturnType<typeof parseStructureTests>): Promise<StructureTestReport> {
    const runner = createDockerStructureTestRunner(this.docker, imageId, {
      labels: { 'pitlane.structure-test': '1', 'pitlane.managed': 'false' },
      hostConfig: { ...hardenedHostConfig(this.limits), NetworkMode: 'none' },
      allowHostAccess: false,
      hostEnv: {},
    });
    try {
      return await runStructureTests(config, runner);
    } finally {
      await runner.close();
    }
  }
}

/**
 * Validates the manifest's `image_checks` and `structure_tests` sections at deploy time. Structure
 * tests run on the server, so their `containerRunOptions` may not reach the host: `privileged`,
 * `capabilities`, `bindMounts`, `envFile` (a server file) and `envVars` (the server's environment)
 * are refused.
 * @throws PitlaneError 400 MANIFEST_INVALID naming the field.
 */
export function validateImageCheckSections(manifest: JobManifest): void {
  let config: ReturnType<typeof parseStructureTests> | undefined;
  try {
    if (manifest.image_checks !== undefined) normalizeImageCheckRules(manifest.image_checks, 'image_checks');
    if (manifest.structure_tests !== undefined) config = parseStructureTests(manifest.structure_tests as object);
  } catch (error) {
    const e = error as PitlaneError;
    throw new PitlaneError(400, 'MANIFEST_INVALID', e.message, e.details ?? []);
  }
  const refused = hostAccessOptions(config?.containerRunOptions ?? null);
  if (refused.length > 0) {
    throw new PitlaneError(
      400,
      'MANIFEST_INVALID',
      `structure_tests.containerRunOptions may not reach the server's host: ${refused.join(', ')} ${refused.length === 1 ? 'is' : 'are'} not allowed`,
      refused.map((field) => ({ path: `structure_tests.containerRunOptions.${field}`, message: 'not allowed on the server' })),
    );
  }
}

/** Outcome of {@link checkImage}: what to store with the deployment. */
export interface ImageCheckOutcome {
  report: ImageReport & { checks?: ImageChecksEvaluation };
  structureTests: StructureTestReport | undefined;
}

/**
 * Reports on the image, applies the manifest's gates and runs its structure tests.
 * @param onLine receives human-readable progress lines for the build log.
 * @throws PitlaneError 422 IMAGE_CHECKS_FAILED / STRUCTURE_TESTS_FAILED stating the figures or failing tests;
 *   the outcome computed so far is attached as `outcome` so it can still be stored.
 */
export async function checkImage(checker: ImageChecker, imageId: string, manifest: JobManifest, onLine: (line: string) => void): Promise<ImageCheckOutcome> {
  const report: ImageCheckOutcome['report'] = await checker.report(imageId);
  onLine(
    `image: ${report.layers.length} layers, ${report.size_bytes} bytes, efficiency ${(report.efficiency * 100).toFixed(2)} %, wasted ${report.wasted_bytes} bytes (dive), reclaimable ${report.reclaimable_bytes} bytes`,
  );
  const outcome: ImageCheckOutcome = { report, structureTests: undefined };
  if (manifest.image_checks !== undefined) {
    const checks = evaluateImageChecks(report, normalizeImageCheckRules(manifest.image_checks, 'image_checks'));
    report.checks = checks;
    onLine(`image checks: ${checks.summary}`);
    if (!checks.pass) throw Object.assign(new PitlaneError(422, 'IMAGE_CHECKS_FAILED', `the image checks failed: ${checks.summary}`), { outcome });
  }
  if (manifest.structure_tests !== undefined) {
    const result = await checker.structureTests(imageId, parseStructureTests(manifest.structure_tests as object));
    outcome.structureTests = result;
    onLine(`structure tests: ${result.passed} passed, ${result.failed} failed, ${result.skipped} skipped`);
    if (!result.pass) {
      const failing = result.results.filter((r) => !r.pass && !r.skipped).map((r) => `${r.name}${r.errors?.length ? `: ${r.errors.join('; ')}` : ''}`);
      throw Object.assign(new PitlaneError(422, 'STRUCTURE_TESTS_FAILED', `structure tests failed: ${failing.join(' | ')}`), { outcome });
    }
  }
  return outcome;
}
