/**
 * The python3 job type (issue 5): Racetrack-compatible Python jobs. The user gives a class with a
 * `perform` method; Pitlane checks the source, ships its standard-library wrapper
 * (`wrappers/python3/`) and generates a lean multi-stage Dockerfile that lints clean.
 */
export { python3Builder, createPython3Builder, preparePython3, python3Options, defaultPythonImage, defaultWrapperDir, DEFAULT_DOCKERIGNORE, PYTHON3_DOCKERFILE, type Python3BuilderOptions } from './builder.js';
export { renderPython3Dockerfile, isBuildOnlyPackage, selectCodeEntries, MAX_DIRECTORY_COPIES, PATHS as PYTHON3_IMAGE_PATHS, JOB_UID as PYTHON3_JOB_UID, WRAPPER_PORT as PYTHON3_PORT, type CodeEntries, type Python3DockerfileInput } from './dockerfile.js';
export { parsePython3Options, contextRelativePath, DEFAULT_PYTHON_VERSION, type Python3Options } from './options.js';
export { scanTopLevelClasses, scanRequirements, type ClassDefinition, type RequirementsScan } from './source-scan.js';
